"""Keras's optimizers on torch: Keras 3's update rules, not torch's (they differ in epsilon and momentum).

Each class here implements one config of modelspec.optimizers.config, which names it in its
`@register_optimizer("modelspec.optimizers.runtime:Keras...")`; `build_optimizer` resolves that reference.

Each step does what Keras's `apply_gradients` does, for the parameters that have a gradient:

1. clip the gradients (`clipnorm` per variable, `clipvalue` elementwise, or `global_clipnorm`);
2. decay the weights, decoupled: w -= w * weight_decay * lr;
3. apply the optimizer's update with lr = schedule(iterations) or the float learning rate;
4. count the iteration (the first update uses iterations = 0, so schedule(0)).

Gradients are not modified in place. All per-step scalars (learning rate, bias corrections) are host
floats computed from the iteration count, so a step never waits on the device; the updates use
torch's multi-tensor `_foreach_*` kernels.

State for checkpoints: the per-parameter slots (Keras's names: momentum, velocity, ...) are in
`state`; the iteration count and the float learning rate (and Nadam's momentum-schedule product)
are in each param group, so `state_dict()`/`load_state_dict()` resume exactly. The hyperparameters
and the schedule come from the config, not the checkpoint.

Example:
    optimizer = build_optimizer(optimizer_config({"type": "sgd", "momentum": 0.9}), model.parameters())
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from modelspec.implementation import resolve
from modelspec.optimizers.config import BaseOptimizer, OptimizerConfig, optimizer_config
from modelspec.optimizers.schedules import LearningRateSchedule
from modelspec.training.compile_cache import use_compile_cache

Slots = dict[str, list[Tensor]]


def _undecorated(method: Callable[..., Any]) -> Callable[..., Any]:
    """`method` without the decorator functools.wraps recorded (torch._disable_dynamo's)."""
    return getattr(method, "__wrapped__", method)


class KerasOptimizer(torch.optim.Optimizer):
    """Base of the Keras optimizers: clipping, weight decay, learning rate and iteration count.

    Subclasses define `slots(param)` (new per-parameter state) and `update(...)`.
    """

    # torch.optim.Optimizer wraps these in torch._disable_dynamo, whose first call imports
    # torch._dynamo: about 1.2 s of every training process here, for a guard modelspec does not need
    # (it never calls them inside a compiled region: jit_compile compiles `update` alone, or the model).
    add_param_group = _undecorated(torch.optim.Optimizer.add_param_group)
    zero_grad = _undecorated(torch.optim.Optimizer.zero_grad)
    state_dict = _undecorated(torch.optim.Optimizer.state_dict)
    load_state_dict = _undecorated(torch.optim.Optimizer.load_state_dict)

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], config: BaseOptimizer):
        learning_rate = config.learning_rate
        self.config = config
        self.schedule: LearningRateSchedule | None = learning_rate if isinstance(learning_rate, LearningRateSchedule) else None
        first = self.schedule.value(0) if self.schedule is not None else float(learning_rate)
        super().__init__(params, {"lr": first, "iterations": 0, **self.group_state()})

    # ----- contract for subclasses ----------------------------------------------------------------
    def group_state(self) -> dict[str, Any]:
        """Extra host scalars kept per param group (checkpointed), besides lr and iterations."""
        return {}

    def slots(self, param: Tensor) -> dict[str, Tensor]:
        """The optimizer's variables for one parameter, freshly initialised."""
        return {}

    def update(self, params: list[Tensor], grads: list[Tensor], slots: Slots, lr: float, step: int, group: dict[str, Any]) -> None:
        """Update `params` in place; `step` is the 1-based count of this update (Keras's iterations + 1)."""
        raise NotImplementedError

    # ----- learning rate ------------------------------------------------------------------------
    @property
    def iterations(self) -> int:
        """Updates applied so far."""
        return self.param_groups[0]["iterations"]

    def learning_rate(self, group: dict[str, Any] | None = None) -> float:
        """The learning rate the next update uses."""
        group = self.param_groups[0] if group is None else group
        return self.schedule.value(group["iterations"]) if self.schedule is not None else group["lr"]

    def set_learning_rate(self, value: float) -> None:
        """Set a float learning rate (ReduceLROnPlateau, LearningRateScheduler). A schedule cannot be set."""
        set_learning_rate(self, value)

    # ----- jit_compile -------------------------------------------------------------------------------
    #: Whether `update` reads per-step floats besides lr (Nadam's momentum-schedule product): each new
    #: value would compile it again, so such an update is never compiled.
    per_step_floats = False
    _compiled_update: Callable[..., None] | None = None
    _compiled_lr: float | None = None

    def compile_update(self) -> bool:
        """Run `update` through torch.compile (fit.jit_compile) while the learning rate stays the float it is now.

        torch.compile specialises on the Python floats an update passes to its kernels, so a new learning
        rate means a new compilation: updates under a schedule, after ReduceLROnPlateau or
        LearningRateScheduler changed the rate, and Nadam's, run eagerly. Returns whether it compiles.
        """
        if self.schedule is not None or self.per_step_floats:
            return False
        use_compile_cache()
        self._compiled_update = torch.compile(self.update)
        self._compiled_lr = self.param_groups[0]["lr"]
        return True

    # ----- the step -------------------------------------------------------------------------------
    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        groups = []
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None and p.requires_grad]
            groups.append((group, params, [p.grad for p in params]))
        if not any(params for _, params, _ in groups):
            return loss  # as Keras: nothing to apply, the iteration is not counted
        clipped = self._clip([g for _, _, grads in groups for g in grads])
        for group, params, grads in groups:
            grads, clipped = clipped[: len(grads)], clipped[len(grads) :]
            if params:
                lr = self.learning_rate(group)
                if self.config.weight_decay is not None:
                    torch._foreach_mul_(params, 1.0 - self.config.weight_decay * lr)
                update = self._compiled_update if self._compiled_update is not None and lr == self._compiled_lr else self.update
                update(params, grads, self._slots_of(params), lr, group["iterations"] + 1, group)
            group["iterations"] += 1
            if self.schedule is not None:
                group["lr"] = self.schedule.value(group["iterations"])
        return loss

    def _slots_of(self, params: list[Tensor]) -> Slots:
        for p in params:
            if not self.state[p]:
                self.state[p].update(self.slots(p))
        names = self.state[params[0]].keys()
        return {name: [self.state[p][name] for p in params] for name in names}

    def _clip(self, grads: list[Tensor]) -> list[Tensor]:
        """Keras's _clip_gradients; returns new tensors."""
        config = self.config
        if config.clipnorm is not None:
            # g * clipnorm / max(||g||, clipnorm), per variable
            scales = torch._foreach_norm(grads)
            torch._foreach_clamp_min_(scales, config.clipnorm)
            torch._foreach_reciprocal_(scales)
            torch._foreach_mul_(scales, config.clipnorm)
            return torch._foreach_mul(grads, scales)
        if config.global_clipnorm is not None:
            norms = torch._foreach_norm(grads)
            device = norms[0].device
            norm = torch.linalg.vector_norm(torch.stack([n.to(device) for n in norms]))
            clip = config.global_clipnorm
            # clip * min(1/norm, 1/clip), made NaN when the norm is not finite (as Keras)
            scale = torch.clamp_max(norm.reciprocal(), 1.0 / clip) * clip + (norm - norm)
            return torch._foreach_mul(grads, scale)
        if config.clipvalue is not None:
            clipped = torch._foreach_clamp_min(grads, -config.clipvalue)
            torch._foreach_clamp_max_(clipped, config.clipvalue)
            return clipped
        return list(grads)


def _zeros(param: Tensor) -> Tensor:
    return torch.zeros_like(param, memory_format=torch.preserve_format)


class KerasSGD(KerasOptimizer):
    """v = momentum * v - lr * g; w += v (nesterov: w += momentum * v - lr * g). Without momentum: w -= lr * g."""

    def slots(self, param):
        return {"momentum": _zeros(param)} if self.config.momentum != 0 else {}

    def update(self, params, grads, slots, lr, step, group):
        momentum = self.config.momentum
        if momentum == 0:
            torch._foreach_add_(params, grads, alpha=-lr)
            return
        velocity = slots["momentum"]
        torch._foreach_mul_(velocity, momentum)
        torch._foreach_add_(velocity, grads, alpha=-lr)
        if self.config.nesterov:
            torch._foreach_add_(params, velocity, alpha=momentum)
            torch._foreach_add_(params, grads, alpha=-lr)
        else:
            torch._foreach_add_(params, velocity)


class KerasRMSprop(KerasOptimizer):
    """v = rho * v + (1 - rho) * g^2; (centered: a = rho * a + (1 - rho) * g, v - a^2 below);
    d = lr * g / sqrt(v + eps); with momentum: m = momentum * m + d, w -= m; else w -= d."""

    def slots(self, param):
        found = {"velocity": _zeros(param)}
        if self.config.momentum > 0:
            found["momentum"] = _zeros(param)
        if self.config.centered:
            found["average_gradient"] = _zeros(param)
        return found

    def update(self, params, grads, slots, lr, step, group):
        config = self.config
        velocity = slots["velocity"]
        torch._foreach_mul_(velocity, config.rho)
        torch._foreach_addcmul_(velocity, grads, grads, value=1 - config.rho)
        if config.centered:
            average = slots["average_gradient"]
            torch._foreach_mul_(average, config.rho)
            torch._foreach_add_(average, grads, alpha=1 - config.rho)
            denominator = torch._foreach_addcmul(velocity, average, average, value=-1.0)
            torch._foreach_add_(denominator, config.epsilon)
        else:
            denominator = torch._foreach_add(velocity, config.epsilon)
        torch._foreach_sqrt_(denominator)
        if config.momentum > 0:
            momentum = slots["momentum"]
            torch._foreach_mul_(momentum, config.momentum)
            torch._foreach_addcdiv_(momentum, grads, denominator, value=lr)
            torch._foreach_sub_(params, momentum)
        else:
            torch._foreach_addcdiv_(params, grads, denominator, value=-lr)


class KerasAdam(KerasOptimizer):
    """m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); (amsgrad: v = max(v_hat, v));
    w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)."""

    def slots(self, param):
        found = {"momentum": _zeros(param), "velocity": _zeros(param)}
        if self.config.amsgrad:
            found["velocity_hat"] = _zeros(param)
        return found

    def update(self, params, grads, slots, lr, step, group):
        beta_1, beta_2 = self.config.beta_1, self.config.beta_2
        momentum, velocity = slots["momentum"], slots["velocity"]
        alpha = lr * math.sqrt(1 - beta_2**step) / (1 - beta_1**step)
        torch._foreach_lerp_(momentum, grads, 1 - beta_1)
        torch._foreach_mul_(velocity, beta_2)
        torch._foreach_addcmul_(velocity, grads, grads, value=1 - beta_2)
        if self.config.amsgrad:
            torch._foreach_maximum_(slots["velocity_hat"], velocity)
            velocity = slots["velocity_hat"]
        denominator = torch._foreach_sqrt(velocity)
        torch._foreach_add_(denominator, self.config.epsilon)
        torch._foreach_addcdiv_(params, momentum, denominator, value=-alpha)


class KerasAdamW(KerasAdam):
    """Adam; the decoupled weight decay is applied by the base class, as for every optimizer."""


class KerasAdagrad(KerasOptimizer):
    """acc += g^2 (acc starts at initial_accumulator_value); w -= lr * g / sqrt(acc + eps)."""

    def slots(self, param):
        return {"accumulator": torch.full_like(param, self.config.initial_accumulator_value, memory_format=torch.preserve_format)}

    def update(self, params, grads, slots, lr, step, group):
        accumulator = slots["accumulator"]
        torch._foreach_addcmul_(accumulator, grads, grads)
        denominator = torch._foreach_add(accumulator, self.config.epsilon)
        torch._foreach_sqrt_(denominator)
        torch._foreach_addcdiv_(params, grads, denominator, value=-lr)


class KerasAdadelta(KerasOptimizer):
    """E[g^2] = rho E[g^2] + (1 - rho) g^2; d = sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g;
    E[dx^2] = rho E[dx^2] + (1 - rho) d^2; w -= lr * d."""

    def slots(self, param):
        return {"accumulated_grad": _zeros(param), "accumulated_delta_var": _zeros(param)}

    def update(self, params, grads, slots, lr, step, group):
        rho, epsilon = self.config.rho, self.config.epsilon
        accumulated_grad, accumulated_delta = slots["accumulated_grad"], slots["accumulated_delta_var"]
        torch._foreach_mul_(accumulated_grad, rho)
        torch._foreach_addcmul_(accumulated_grad, grads, grads, value=1 - rho)
        delta = torch._foreach_add(accumulated_delta, epsilon)
        torch._foreach_sqrt_(delta)
        denominator = torch._foreach_add(accumulated_grad, epsilon)
        torch._foreach_sqrt_(denominator)
        torch._foreach_div_(delta, denominator)
        torch._foreach_mul_(delta, grads)
        torch._foreach_mul_(accumulated_delta, rho)
        torch._foreach_addcmul_(accumulated_delta, delta, delta, value=1 - rho)
        torch._foreach_add_(params, delta, alpha=-lr)


class KerasAdamax(KerasOptimizer):
    """m += (g - m)(1 - b1); u = max(b2 * u, |g|); w -= lr / (1 - b1^t) * m / (u + eps)."""

    def slots(self, param):
        return {"momentum": _zeros(param), "norm": _zeros(param)}

    def update(self, params, grads, slots, lr, step, group):
        beta_1 = self.config.beta_1
        momentum, norm = slots["momentum"], slots["norm"]
        torch._foreach_lerp_(momentum, grads, 1 - beta_1)
        torch._foreach_mul_(norm, self.config.beta_2)
        torch._foreach_maximum_(norm, torch._foreach_abs(grads))
        denominator = torch._foreach_add(norm, self.config.epsilon)
        torch._foreach_addcdiv_(params, momentum, denominator, value=-lr / (1 - beta_1**step))


class KerasNadam(KerasOptimizer):
    """Dozat's Nadam as Keras: u_t = b1 (1 - 0.5 * 0.96^t), U_t = u_1 ... u_t (kept per group as u_product);
    m_hat = u_{t+1} m / (1 - U_{t+1}) + (1 - u_t) g / (1 - U_t); v_hat = v / (1 - b2^t);
    w -= lr * m_hat / (sqrt(v_hat) + eps)."""

    per_step_floats = True  # u_product changes every step

    def group_state(self):
        return {"u_product": 1.0}

    def slots(self, param):
        return {"momentum": _zeros(param), "velocity": _zeros(param)}

    def update(self, params, grads, slots, lr, step, group):
        beta_1, beta_2 = self.config.beta_1, self.config.beta_2
        u_t = beta_1 * (1.0 - 0.5 * 0.96**step)
        u_next = beta_1 * (1.0 - 0.5 * 0.96 ** (step + 1))
        u_product = group["u_product"] * u_t
        group["u_product"] = u_product
        momentum, velocity = slots["momentum"], slots["velocity"]
        torch._foreach_lerp_(momentum, grads, 1 - beta_1)
        torch._foreach_mul_(velocity, beta_2)
        torch._foreach_addcmul_(velocity, grads, grads, value=1 - beta_2)
        m_hat = torch._foreach_mul(momentum, u_next / (1 - u_product * u_next))
        torch._foreach_add_(m_hat, grads, alpha=(1 - u_t) / (1 - u_product))
        denominator = torch._foreach_mul(velocity, 1 / (1 - beta_2**step))
        torch._foreach_sqrt_(denominator)
        torch._foreach_add_(denominator, self.config.epsilon)
        torch._foreach_addcdiv_(params, m_hat, denominator, value=-lr)


# ----- public helpers ---------------------------------------------------------------------------
def build_optimizer(config: OptimizerConfig | str | dict[str, Any], params: Iterable[Tensor] | Iterable[dict[str, Any]]) -> KerasOptimizer:
    """The torch optimizer for a config (a bare Keras name or a mapping is validated first)."""
    config = optimizer_config(config)
    return implementation(config)(params, config)


def implementation(config: BaseOptimizer) -> type[KerasOptimizer]:
    """The KerasOptimizer subclass the config's registration names."""
    found = resolve(type(config).implementation)
    if not (isinstance(found, type) and issubclass(found, KerasOptimizer)):
        raise TypeError(f"{type(config).implementation!r}, the implementation of {config.type}, is not a KerasOptimizer subclass")
    return found


def current_learning_rate(optimizer: torch.optim.Optimizer) -> float:
    """The learning rate the next step uses (the schedule's value at the current iteration)."""
    if isinstance(optimizer, KerasOptimizer):
        return optimizer.learning_rate()
    return float(optimizer.param_groups[0]["lr"])


def set_learning_rate(optimizer: torch.optim.Optimizer, value: float) -> None:
    """Set a float learning rate on every param group. Raises TypeError for a scheduled learning rate."""
    if isinstance(optimizer, KerasOptimizer) and optimizer.schedule is not None:
        raise TypeError(
            f"this optimizer was created with a {optimizer.schedule.type} learning rate, hence its learning rate "
            "is not settable; use a float learning_rate to set it from a callback"
        )
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"a learning rate must be a finite number >= 0, received {value}")
    for group in optimizer.param_groups:
        group["lr"] = value
