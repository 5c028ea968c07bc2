"""Spec + graph -> what training needs to know, without torch: per-output losses, loss weights,
metrics, and the arrays the data must provide.

Keras's compile rules: one loss applies to every output, a list assigns losses in output
order, a mapping by output name (outputs it leaves out are not trained); the same for
loss_weights (default 1.0); metrics as a list apply to every output, or a mapping by output.
Reported names follow Keras: `loss`, and for several outputs `<output>_loss`, `<output>_<metric>`;
`val_<name>` with validation data. The callbacks are checked against them: what they monitor and
format into file names must be logged, and the files they write must not collide. The fit section
is checked against the graph: fit.batch_size against a batch size the model fixes, and
fit.class_weight against the trained outputs and their classes.

Example:
    plan = plan_training(spec, graph, located)
    plan.outputs["main_output"].loss_weight      # 1.0
    plan.expected                               # [ArraySpec("main_input", (None, 100), "int32", "input", high=10000), ...]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelspec.errors import Problem, SpecError, did_you_mean, format_choices
from modelspec.graph import Graph, fixed_batch_size
from modelspec.layers import Shape
from modelspec.losses import LABEL_KINDS, loss_config
from modelspec.metrics import label_problem, metric_config
from modelspec.optimizers import optimizer_config
from modelspec.source import Located
from modelspec.spec import Spec
from modelspec.training_spec import CompileConfig, FitConfig


@dataclass
class OutputPlan:
    """How one output is trained and measured."""

    name: str
    shape: Shape
    loss: Any | None = None
    loss_weight: float = 1.0
    metrics: list[Any] = field(default_factory=list)

    @property
    def label_kind(self) -> str | None:
        return LABEL_KINDS.get(self.loss.type) if self.loss is not None else None

    def target_spec(self) -> dict[str, Any]:
        """Keyword arguments of the ArraySpec of this output's targets."""
        kind = self.label_kind
        if kind == "sparse":
            return {"shape": self.shape[:-1], "dtype": "int64", "label_kind": kind, "num_classes": self.shape[-1]}
        return {"shape": self.shape, "dtype": "float32", "label_kind": kind, "num_classes": self.shape[-1] if kind == "categorical" else None}


@dataclass
class TrainingPlan:
    optimizer: Any
    outputs: dict[str, OutputPlan]
    input_bounds: dict[str, int]
    validation: bool = False  # validation data or fit.validation_split: val_* names are logged

    @property
    def multi_output(self) -> bool:
        return len(self.outputs) > 1

    def loss_names(self) -> dict[str, str]:
        """The logged name of each trained output's own loss, by output (several outputs only: `<output>_loss`)."""
        return {name: f"{name}_loss" for name, out in self.outputs.items() if out.loss is not None} if self.multi_output else {}

    def metric_name(self, output: str, metric: Any) -> str:
        """The logged name of one metric of `output`: its name, prefixed by the output's with several outputs."""
        return f"{output}_{metric.name}" if self.multi_output else metric.name

    def logged_names(self) -> list[str]:
        """The names training logs at each epoch end (the engine's logs, val_* versions with validation data);
        callbacks may add learning_rate."""
        names = ["loss", *self.loss_names().values(), *(self.metric_name(name, m) for name, out in self.outputs.items() for m in out.metrics)]
        return [*names, *(f"val_{name}" for name in names)] if self.validation else names

    def expected(self, graph: Graph, *, targets: bool = True) -> list:
        """ArraySpecs of the inputs (and targets) the data must provide."""
        from modelspec.data.arrays import ArraySpec

        found = [
            ArraySpec(name, i.shape, i.dtype if i.dtype in ("float32", "int32", "int64", "bool") else "float32", "input", high=self.input_bounds.get(name))
            for name, i in graph.inputs.items()
        ]
        if targets:
            found += [ArraySpec(out.name, role="target", **out.target_spec()) for out in self.outputs.values() if out.loss is not None]
        return found


def _per_output(value: Any, outputs: list[str], key: str, located: Located, problems: list[Problem]) -> dict[str, Any]:
    """Spread a compile value (one, a list in output order, or a mapping by output) over the outputs."""
    if isinstance(value, dict):  # validated configs are models, so a dict is always "by output name"
        unknown = [name for name in value if name not in outputs]
        for name in unknown:
            problems.append(located.problem(
                f"compile.{key}: '{name}' is not an output of the model{did_you_mean(name, outputs) or f' (outputs: {format_choices(outputs)})'}",
                ("compile", key, name), key=True,
            ))
        return {name: value[name] for name in outputs if name in value}
    if isinstance(value, list) and key != "metrics":
        if len(value) != len(outputs):
            problems.append(located.problem(
                f"compile.{key}: a list needs one entry per output ({len(outputs)}: {', '.join(outputs)}), received {len(value)}",
                ("compile", key),
            ))
            return {}
        return dict(zip(outputs, value))
    return {name: value for name in outputs}


def plan_training(spec: Spec, graph: Graph, located: Located) -> TrainingPlan:
    """The training plan of a validated spec; SpecError (located) when compile names unknown outputs, or a
    callback reads a name training does not log or writes where another one does."""
    plan, problems = plan_parts(spec, graph, located)
    if problems or plan is None:
        raise SpecError(problems)
    return plan


def plan_parts(spec: Spec, graph: Graph, located: Located, unknown: frozenset[tuple] = frozenset()) -> tuple[TrainingPlan | None, list[Problem]]:
    """The training plan and every problem it shows, of what is known: a check that reads a section that failed
    validation (`("compile",)`, `("fit",)` or `("data",)` in `unknown`, from modelspec.validate) or a shape
    that is unknown (None: a layer that failed) is skipped, so that one mistake is reported once. The plan
    is None when anything is unknown or wrong."""
    outputs = {name: OutputPlan(name, graph.output_shapes[name]) for name in graph.outputs}
    plan = TrainingPlan(None, outputs, _input_bounds(graph), _validation(spec))
    problems = _assign_compile(spec.compile, outputs, located) if ("compile",) not in unknown else []
    compiled = ("compile",) not in unknown and not problems  # each output's loss and metrics are known
    if ("fit",) not in unknown:
        problems += _check_fit(spec, graph, plan, located, trained_known=compiled)
        if spec.fit.callbacks and compiled and ("data",) not in unknown:
            problems += _check_callbacks(plan, spec.fit, located)
    if ("data",) not in unknown and spec.data is not None and spec.data.columns:
        problems += _check_columns(spec.data.columns, graph, located)
    if problems or unknown:
        return None, problems
    plan.optimizer = optimizer_config(spec.compile.optimizer if spec.compile is not None else "rmsprop")
    return plan, []


def _check_columns(columns: Any, graph: Graph, located: Located) -> list[Problem]:
    """data.columns entries naming no input or output, or listing columns that cannot make its shape."""
    from modelspec.data.config import column_problems

    inputs = {name: tensor.shape for name, tensor in graph.inputs.items()}
    names = {**inputs, **graph.output_shapes}
    found = column_problems(columns, inputs, dict(graph.output_shapes))
    return [located.problem(message, ("data", "columns", *path), key=path[0] not in names) for message, path in found]


def _validation(spec: Spec) -> bool:
    """Whether training validates (fit.validation_split or data.validation): val_* names are logged."""
    return spec.fit.validation_split > 0 or spec.data is not None and spec.data.validation is not None


def _assign_compile(compile_: CompileConfig | None, plans: dict[str, OutputPlan], located: Located) -> list[Problem]:
    """Give each output its loss, loss weight and metrics from the compile section (Keras's rules); the problems."""
    problems: list[Problem] = []
    if compile_ is None:
        return problems
    outputs = list(plans)
    if compile_.loss is not None:
        for name, loss in _per_output(compile_.loss, outputs, "loss", located, problems).items():
            plans[name].loss = loss_config(loss)
    if compile_.loss_weights is not None:
        for name, weight in _per_output(compile_.loss_weights, outputs, "loss_weights", located, problems).items():
            plans[name].loss_weight = float(weight)
    if compile_.metrics is not None:
        for name, metrics in _per_output(compile_.metrics, outputs, "metrics", located, problems).items():
            plans[name].metrics = [metric_config(m) for m in (metrics if isinstance(metrics, list) else [metrics])]
            problems += _metric_label_problems(plans[name], compile_.metrics, located)
    return problems


def _metric_label_problems(output: OutputPlan, written: Any, located: Located) -> list[Problem]:
    """A metric that cannot be computed on the labels the output's loss takes, located at the metric."""
    metrics = written.get(output.name) if isinstance(written, dict) else written
    found: list[Problem] = []
    if output.shape is None:  # a layer before it failed: its labels are unknown
        return found
    for index, metric in enumerate(output.metrics):
        message = label_problem(metric, output.loss.type if output.loss is not None else None, output.name, output.shape)
        if message is not None:
            where = (*((output.name,) if isinstance(written, dict) else ()), *((index,) if isinstance(metrics, list) else ()))
            found.append(located.problem(message, ("compile", "metrics", *where)))
    return found


def _check_fit(spec: Spec, graph: Graph, plan: TrainingPlan, located: Located, *, trained_known: bool = True) -> list[Problem]:
    """Located problems of the fit section that the graph shows: a batch size the model cannot take
    (checked when the spec has a fit section), class weights without a single trained output or beyond its classes
    (checked when which outputs are trained is known)."""
    fit, problems = spec.fit, []
    fixed = fixed_batch_size(graph)
    if fixed is not None and fit.batch_size != fixed and "fit" in spec.model_fields_set:
        at = ("fit", "batch_size") if "batch_size" in fit.model_fields_set else ("fit",)
        problems.append(located.problem(
            f"fit.batch_size is {fit.batch_size}, but the model fixes the batch size to {fixed} (batch_input_shape / batch_size)", at))
    if fit.class_weight and trained_known:
        problems += _check_class_weight(plan, fit, located)
    return problems


def _check_class_weight(plan: TrainingPlan, fit: FitConfig, located: Located) -> list[Problem]:
    """fit.class_weight needs one trained output (as in Keras), and names classes that output has."""
    trained = [o for o in plan.outputs.values() if o.loss is not None]
    if len(trained) != 1:
        return [located.problem("fit.class_weight needs a model with a single trained output (as in Keras)", ("fit", "class_weight"))]
    output = trained[0]
    units = output.shape[-1] if output.shape else None
    classes = max(int(units), 2) if units is not None else None  # one unit: the two classes of a binary output
    beyond = sorted(int(index) for index in fit.class_weight if classes is not None and not 0 <= int(index) < classes)
    if beyond:
        return [located.problem(f"fit.class_weight names class {beyond[0]}, but output '{output.name}' has {classes} classes "
                                f"(0 to {classes - 1})", ("fit", "class_weight"))]
    return []


def _check_callbacks(plan: TrainingPlan, fit: FitConfig, located: Located) -> list[Problem]:
    """Located problems of callbacks that read a name training does not log or write another one's file."""
    from modelspec.callbacks.config import check_callbacks  # only for specs with callbacks (their classes are loaded then)

    found = check_callbacks(fit.callbacks, plan.logged_names(), validation_freq=fit.validation_freq)
    return [located.problem(message, ("fit", "callbacks", *path)) for message, path in found]


def _input_bounds(graph: Graph) -> dict[str, int]:
    """The exclusive upper bound of each input's values that a layer sets (an Embedding's input_dim)."""
    bounds: dict[str, int] = {}
    for node in graph.order:
        bound = node.layer.config.input_bound()
        for ref in node.inputs:
            if bound is not None and ref.source in graph.inputs:
                bounds[ref.source] = bound
    return bounds
