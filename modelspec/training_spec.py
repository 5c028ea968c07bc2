"""The `compile:`, `fit:` and `data:` sections of a spec (checked while validating; used by training).

    compile:
      optimizer: {type: sgd, learning_rate: 0.01, momentum: 0.9, nesterov: true}
      loss: {main_output: binary_crossentropy, aux_output: binary_crossentropy}
      loss_weights: {main_output: 1.0, aux_output: 0.2}
      metrics: [accuracy]
    fit: {epochs: 20, batch_size: 128, validation_split: 0.1}
    data: {train: {dataset: digits}, test: {dataset: digits}}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from modelspec.config import Identifier, NonNegativeInt, PositiveInt, StrictModel
from modelspec.data.config import DataColumns, DataSource, bind_columns
from modelspec.losses import LossSpec
from modelspec.metrics import MetricSpec
from modelspec.optimizers import OptimizerSpec
from modelspec.schema.fields import Kind


def _callbacks_not_loaded(value: Any) -> Any:
    raise RuntimeError("fit.callbacks validated before the callback types were included: modelspec.schema.build includes them for a spec that has fit.callbacks")


def _callback_types() -> dict[str, type]:
    from modelspec.callbacks.config import CALLBACKS

    return CALLBACKS


def _callback_entry(_members: Any) -> Any:
    from modelspec.callbacks.config import CallbackSpec

    return CallbackSpec


#: The callback registry as a Kind, off until a spec has `callbacks:` (modelspec.schema.build includes it),
#: so that specs without callbacks never create their ~10 pydantic classes (a few ms of every `validate`
#: and `summary`); meanwhile a `fit.callbacks` entry validates with a placeholder that refuses anything.
CALLBACK_TYPES = Kind("fit.callbacks", _callback_types, _callback_entry, placeholder=Annotated[Any, BeforeValidator(_callbacks_not_loaded)])
CallbackEntry = CALLBACK_TYPES.field


#: A class index as a mapping key (YAML keys are read as text): "0", "1", ...
ClassIndex = Annotated[str, Field(pattern=r"^[0-9]+$")]


class CompileConfig(StrictModel):
    """Keras's compile: optimizer, loss per output, loss weights, metrics per output."""

    optimizer: OptimizerSpec = Field("rmsprop", description="A name (rmsprop, adam, sgd, ...) or {type: adam, learning_rate: 0.001, ...}.")
    loss: LossSpec | list[LossSpec] | dict[Identifier, LossSpec] | None = Field(
        None, description="One loss for every output, a list in output order, or a mapping by output name."
    )
    loss_weights: list[float] | dict[Identifier, float] | None = Field(None, description="Weights of the per-output losses in the total loss.")
    metrics: list[MetricSpec] | dict[Identifier, MetricSpec | list[MetricSpec]] | None = Field(
        None, description="Metrics for every output, or a mapping by output name."
    )


class FitConfig(StrictModel):
    """Keras's fit arguments."""

    epochs: PositiveInt = 1
    batch_size: PositiveInt = 32
    shuffle: bool | Literal["batch"] = Field(True, description="Shuffle the training samples each epoch; 'batch' shuffles the order of batch-sized blocks of consecutive rows (sequential reads of on-disk data).")
    validation_split: float = Field(0.0, ge=0.0, lt=1.0, description="Fraction of the training data, taken from the end, held out for validation.")
    class_weight: dict[ClassIndex, float] | None = Field(None, description="Weight of each class index in the loss, e.g. {0: 1.0, 1: 5.0}.")
    sample_weight: str | None = Field(None, description="A .npy file of per-sample weights for the training data.")
    initial_epoch: NonNegativeInt = 0
    steps_per_epoch: PositiveInt | None = None
    validation_freq: PositiveInt = 1
    callbacks: list[CallbackEntry] = Field(default_factory=list, description="Keras callbacks: names or {type: EarlyStopping, ...} mappings.")
    jit_compile: bool = Field(
        False,
        description="Use torch.compile where it is faster: the optimizer's update (a constant learning rate; not "
        "Nadam), and the model on CUDA. On the CPU the model stays eager (inductor's kernels were slower there).",
    )
    # None inside the Literal: a wrong value gets one message with a did-you-mean (a union would add a second).
    mixed_precision: Literal["bf16", "mixed_bfloat16", "float32", None] = Field(  # noqa: PYI061
        None,
        description="bf16 (or Keras's policy name mixed_bfloat16): forward passes under bfloat16 autocast, weights, losses "
        "and metrics in float32. float32 or null: off.",
    )


class DataConfig(StrictModel):
    """Where the arrays come from: a .npz path, {x: ..., y: ...} files, {dataset: digits} or {synthetic: {samples: N}}."""

    train: DataSource | None = None
    validation: DataSource | None = None
    test: DataSource | None = None
    columns: DataColumns | None = Field(None, description="Table sources: an input or output name -> its column, or a list of "
                                        "columns stacked as one feature vector, in order. Default: the column of the same name.")

    @model_validator(mode="after")
    def _tables_read_columns(self) -> DataConfig:
        bind_columns(self.columns, self.train, self.validation, self.test)  # data.columns applies to every split
        return self
