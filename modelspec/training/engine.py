"""The compiled model with Keras's compile semantics: forward, weighted losses, metrics, one step.

Hot-path rules: no host synchronisation per step (losses and metrics accumulate on the device;
callers read them with `logs()` a few times a second at most), gradients set to None (as
`zero_grad(set_to_none=True)`), train/eval mode set only when it changes, no op for a loss weight of 1,
`inference_mode` for evaluation and prediction, cross-entropy from the logits when a softmax or
sigmoid output feeds it (the reported values are the same up to Keras's 1e-7 clip).

Mixed precision (`fit.mixed_precision: bf16`, Keras's mixed_bfloat16): the forward pass runs under
`torch.autocast` with bfloat16 on the engine's device (CUDA; also CPU, which is how it is tested);
the weights stay float32 and the outputs are cast to float32 before the losses and metrics, as
Keras casts a mixed-precision model's outputs. bfloat16 has float32's range: no loss scaling.

On CUDA, the 4D kernels of 2D convolutions are stored channels_last (`channels_last_kernels`):
the layers already hand cuDNN NHWC-strided activations (channels_last specs, `movedim` views),
so cuDNN runs NHWC, and channels_last kernels save a kernel relayout per call and per gradient.

Example:
    engine = Engine(graph, plan, device="cpu", seed=0)
    for inputs, targets, weights, size in batches:
        engine.train_step(inputs, targets, weights, size)
    engine.logs()          # {"loss": 0.31, "accuracy": 0.91}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from modelspec.graph import Graph
from modelspec.losses import logits_variant, loss_kind
from modelspec.losses.runtime import build_loss
from modelspec.metrics.runtime import Mean, Metric, build_metric
from modelspec.nn.activations import get_activation
from modelspec.optimizers.runtime import build_optimizer
from modelspec.plan import TrainingPlan
from modelspec.regularizers.runtime import Regularization
from modelspec.torch_build import build_module, output_activations, set_trainable
from modelspec.training.compile_cache import use_compile_cache

#: fit.mixed_precision -> the autocast dtype of the forward pass (None: float32, no autocast).
AUTOCAST_DTYPES: dict[str | None, torch.dtype | None] = {None: None, "float32": None, "bf16": torch.bfloat16, "mixed_bfloat16": torch.bfloat16}


def channels_last_kernels(module: torch.nn.Module) -> int:
    """Store the 4D kernels of the 2D convolutions in channels_last memory format; returns how many.

    Only the convolution modules' kernels: a 4D weight of another layer keeps its layout. The
    values and state_dict names are unchanged (safetensors files are written contiguous).
    """
    from modelspec.nn.conv import KerasConv, KerasConvTranspose, KerasSeparableConv

    count = 0
    for sub in module.modules():
        if isinstance(sub, (KerasConv, KerasSeparableConv, KerasConvTranspose)):
            for parameter in sub.parameters(recurse=False):
                if parameter.dim() == 4:
                    parameter.data = parameter.data.contiguous(memory_format=torch.channels_last)
                    count += 1
    return count


def compile_module(module: torch.nn.Module) -> torch.nn.Module:
    """torch.compile (fit.jit_compile), with the recurrent layers' fused kernels left to eager.

    Inductor cannot lower torch.lstm/gru/rnn on the CPU (torch 2.13: "expected Tensor() for op
    mkldnn_rnn_layer"): each fused call is a graph break (torch.compiler.disable), and everything
    around it is compiled. The stacked-LSTM rewrite is not used with jit_compile for the same reason.
    """
    from modelspec.nn.recurrent import KerasRecurrent

    for sub in module.modules():
        if isinstance(sub, KerasRecurrent):
            sub.fused_call = torch.compiler.disable(sub.fused_call)
    use_compile_cache()
    return torch.compile(module)


class Engine:
    """A graph compiled to torch, with its optimizer, losses and metrics."""

    def __init__(self, graph: Graph, plan: TrainingPlan, *, device: str | torch.device = "cpu", seed: int = 0, jit_compile: bool = False,
                 mixed_precision: str | None = None, compile_model: bool | None = None):
        """`jit_compile` (fit.jit_compile) compiles with torch.compile what it speeds up: the optimizer's update
        always (one fused kernel instead of a dozen multi-tensor passes), the model on CUDA only. On the CPU,
        inductor's matmuls, convolutions and dropout ran 1.3-2.5x slower than eager's oneDNN kernels in
        benchmarks/run.py. `compile_model` overrides that choice."""
        self.graph, self.plan = graph, plan
        self.device = torch.device(device)
        if compile_model is None:
            compile_model = jit_compile and self.device.type == "cuda"
        self.output_names = list(graph.outputs)
        activations = output_activations(graph)
        self.from_logits: dict[str, Any] = {}
        self.losses: dict[str, Any] = {}
        for name, output in plan.outputs.items():
            if output.loss is None:
                continue
            # A cross-entropy on probabilities takes the logits of the activation its loss entry names.
            variant = logits_variant(output.loss) if loss_kind(output.loss).logits_of == activations[name] else None
            if variant is not None:
                self.from_logits[name] = get_activation(activations[name])
            self.losses[name] = build_loss(variant or output.loss)

        torch.manual_seed(seed)
        self.module = build_module(graph, logits=set(self.from_logits), fuse=not compile_model).to(self.device)
        if self.device.type == "cuda":
            channels_last_kernels(self.module)  # before the optimizer: its state takes the kernels' layout
        self.autocast_dtype = AUTOCAST_DTYPES[mixed_precision]
        set_trainable(self.module, graph)
        self.regularization = Regularization(graph, self.module)
        self.forward = compile_module(self.module) if compile_model else self.module
        self.optimizer = build_optimizer(plan.optimizer, [p for p in self.module.parameters() if p.requires_grad])
        if jit_compile:
            self.optimizer.compile_update()
        self.stateful = [m for m in self.module.modules() if hasattr(m, "reset_states")]

        # The logged names are the plan's (TrainingPlan.logged_names, which the callbacks are checked against).
        loss_names = plan.loss_names()
        self.trackers: dict[str, Mean] = {name: Mean(name) for name in ("loss", *loss_names.values())}
        self.metrics: dict[str, list[tuple[str, Metric]]] = {
            name: [(plan.metric_name(name, config), build_metric(config, output.loss, output.shape)) for config in output.metrics]
            for name, output in plan.outputs.items()
        }
        # What each step does, decided once: (output, loss, its weight or None for 1.0, its tracker or None).
        self._loss_terms = [
            (name, loss_fn, None if plan.outputs[name].loss_weight == 1.0 else plan.outputs[name].loss_weight,
             self.trackers[loss_names[name]] if name in loss_names else None)
            for name, loss_fn in self.losses.items()
        ]
        self._measured = [(name, self.from_logits.get(name), [metric for _, metric in metrics]) for name, metrics in self.metrics.items() if metrics]

    def parallel(self, wrap: Callable[[torch.nn.Module], torch.nn.Module]) -> None:
        """Run every forward pass through `wrap(self.module)` (DistributedDataParallel, which all-reduces
        the gradients in backward), compiled if the engine compiles; weights, optimizer and
        state_dict stay `self.module`'s."""
        compiled = self.forward is not self.module  # jit_compile
        wrapped = wrap(self.module)
        self.forward = compile_module(wrapped) if compiled else wrapped

    # ----- running one batch ----------------------------------------------------------------------
    def outputs(self, inputs: list[Tensor]) -> dict[str, Tensor]:
        """Model outputs by name (logits for the outputs trained from logits)."""
        if self.autocast_dtype is None:
            result = self.forward(*inputs)
            return dict(zip(self.output_names, result if isinstance(result, tuple) else (result,)))
        with torch.autocast(self.device.type, dtype=self.autocast_dtype):
            result = self.forward(*inputs)
        # Losses and metrics in float32, outside autocast (Keras casts a mixed-precision model's outputs).
        return {name: value.float() if value.is_floating_point() else value
                for name, value in zip(self.output_names, result if isinstance(result, tuple) else (result,))}

    def probabilities(self, outputs: dict[str, Tensor]) -> dict[str, Tensor]:
        """Outputs as the model defines them (activations applied where training kept logits)."""
        return {name: self.from_logits[name](value) if name in self.from_logits else value for name, value in outputs.items()}

    def _loss(self, outputs: dict[str, Tensor], targets: dict[str, Tensor], weights: Tensor | None, size: int) -> Tensor:
        total: Tensor | None = None
        for name, loss_fn, loss_weight, tracker in self._loss_terms:
            value = loss_fn(targets[name], outputs[name], weights)
            weighted = value if loss_weight is None else value * loss_weight  # x * 1.0 is x: no op for it
            total = weighted if total is None else total + weighted
            if tracker is not None:
                tracker.update(value.detach(), sample_weight=size)
        assert total is not None, "no output has a loss"
        penalties = self.regularization.loss()
        if penalties is not None:
            total = total + penalties  # Keras reports the loss with its regularization terms
        self.trackers["loss"].update(total.detach(), sample_weight=size)
        return total

    def _measure(self, outputs: dict[str, Tensor], targets: dict[str, Tensor], weights: Tensor | None) -> None:
        for name, activation, metrics in self._measured:
            predictions = outputs[name] if activation is None else activation(outputs[name])
            for metric in metrics:
                metric.update(targets[name], predictions, weights)

    def _mode(self, training: bool) -> None:
        """Set train or eval mode when it changes (Module.train visits every submodule: not on every step)."""
        if self.module.training is not training:
            self.module.train(training)

    def train_step(self, inputs: list[Tensor], targets: dict[str, Tensor], weights: Tensor | None, size: int) -> None:
        self._mode(True)
        outputs = self.outputs(inputs)
        loss = self._loss(outputs, targets, weights, size)
        for group in self.optimizer.param_groups:  # zero_grad(set_to_none=True), without its profiler range per step
            for parameter in group["params"]:
                parameter.grad = None
        loss.backward()
        self.optimizer.step()
        if self.regularization.constraints:
            self.regularization.apply_constraints()
        with torch.no_grad():
            self._measure(outputs, targets, weights)

    @torch.inference_mode()
    def test_step(self, inputs: list[Tensor], targets: dict[str, Tensor], weights: Tensor | None, size: int) -> None:
        self._mode(False)
        outputs = self.outputs(inputs)
        self._loss(outputs, targets, weights, size)
        self._measure(outputs, targets, weights)

    @torch.inference_mode()
    def predict_step(self, inputs: list[Tensor]) -> dict[str, Tensor]:
        self._mode(False)
        outputs = self.probabilities(self.outputs(inputs))
        self.regularization.clear()
        return outputs

    # ----- bookkeeping ----------------------------------------------------------------------------
    def reset_metrics(self) -> None:
        for tracker in self.trackers.values():
            tracker.reset()
        for metrics in self.metrics.values():
            for _, metric in metrics:
                metric.reset()

    def reset_states(self) -> None:
        """Forget the states of stateful recurrent layers (each epoch starts afresh, as Keras)."""
        for module in self.stateful:
            module.reset_states()

    def logs(self) -> dict[str, float]:
        """Current loss and metric values (one host synchronisation)."""
        values = {name: tracker.result() for name, tracker in self.trackers.items()}
        for metrics in self.metrics.values():
            values.update({name: metric.result() for name, metric in metrics})
        if not values:
            return {}
        stacked = torch.stack([v.detach().to(self.device, torch.float64) for v in values.values()]).tolist()
        return dict(zip(values, stacked))
