"""The spec: pydantic models of a YAML model definition (the contract of the file format).

    name: same_author
    inputs:
      tweet_a: {shape: [280, 256]}
      tweet_b: {shape: [280, 256]}
    layers:
      - {name: shared_lstm, type: LSTM, units: 64, inputs: tweet_a}
      - {reuse: shared_lstm, inputs: tweet_b}
      - {name: merged, type: Concatenate, axis: -1, inputs: [shared_lstm@0, shared_lstm@1]}
      - {name: predictions, type: Dense, units: 1, activation: sigmoid}
    outputs: predictions

A sequential model lists its layers under `sequential:` instead of inputs/layers/outputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from modelspec.config import Dimension, Identifier, PositiveInt, StrictModel
from modelspec.layers import LAYER_TYPES, entry_tag
from modelspec.layers.base import Reference
from modelspec.schema.fields import tagged_union
from modelspec.training_spec import CompileConfig, DataConfig, FitConfig

DType = Literal["float32", "float64", "int32", "int64", "bool"]


class InputSpec(StrictModel):
    """A named model input: `{shape: [280, 256], dtype: float32, batch_size: 32}` (shape excludes the batch)."""

    shape: list[Dimension] = Field(description="Shape without the batch dimension; null is any size.")
    dtype: DType = Field("float32", description="Element type of the input data.")
    batch_size: PositiveInt | None = Field(None, description="A fixed batch size (stateful recurrent models need one).")


class Reuse(StrictModel):
    """Call an already defined layer again (same weights): `{reuse: shared_lstm, inputs: tweet_b}` makes node shared_lstm@1."""

    reuse: Identifier = Field(description="Name of the layer to call again.")
    inputs: Reference | list[Reference] | None = Field(None, description="What this call is applied to; default: the previous entry.")


def _entry_union(layer_types: Mapping[str, type]) -> Any:
    return tagged_union({**layer_types, "reuse": Reuse}, entry_tag)


#: One entry of `layers:` or `sequential:`: a layer definition (tagged on `type`) or a reuse; its
#: schema is made from the layer types registered when it is built (modelspec.schema.build).
LayerEntry = LAYER_TYPES.field_of(_entry_union)


class ModelBody(StrictModel):
    """A model's structure: `sequential:` or `inputs:` + `layers:` + `outputs:`."""

    sequential: list[LayerEntry] | None = Field(None, description="A Sequential model: layers applied in order.")
    inputs: dict[Identifier, InputSpec] | None = Field(None, description="Functional model inputs by name.")
    layers: list[LayerEntry] | None = Field(None, description="Functional model: each entry calls a layer and makes one node.")
    outputs: Reference | list[Reference] | None = Field(None, description="Functional model outputs: a name or a list of names.")

    @model_validator(mode="after")
    def _one_form(self) -> ModelBody:
        functional = [key for key in ("inputs", "layers", "outputs") if getattr(self, key) is not None]
        if self.sequential is not None and functional:
            raise ValueError(f"give either 'sequential' or 'inputs'/'layers'/'outputs', not both (found sequential and {', '.join(functional)})")
        if self.sequential is None:
            missing = [key for key in ("inputs", "layers", "outputs") if getattr(self, key) is None]
            if missing:
                raise ValueError(
                    "a model needs 'sequential: [...]', or 'inputs', 'layers' and 'outputs' "
                    f"(missing {', '.join(repr(m) for m in missing)})"
                )
        return self

    @property
    def is_sequential(self) -> bool:
        return self.sequential is not None

    @property
    def entries(self) -> list[Any]:
        return list(self.sequential if self.sequential is not None else self.layers or [])


#: A Python module name, as `import` takes it: `my_layers` or `lab.layers.custom`.
PluginName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$", max_length=200)]


def _default_fit() -> FitConfig:
    """Keras's fit defaults, without building FitConfig's own validator (a spec's schema holds one)."""
    return FitConfig.model_construct()


class Spec(ModelBody):
    """A whole spec file: the model, its sub-models, and how to compile, fit and feed it."""

    name: Identifier = Field("model", description="Model name.")
    plugins: list[PluginName] = Field(
        default_factory=list, description="Python modules that register custom layers; loaded only with --allow-plugins."
    )
    models: dict[Identifier, ModelBody] = Field(default_factory=dict, description="Named sub-models callable as layers ({type: Model, model: NAME}).")
    compile: CompileConfig | None = Field(None, description="Optimizer, losses, loss weights and metrics (Keras's compile).")
    fit: FitConfig = Field(default_factory=_default_fit, description="Training settings (Keras's fit).")
    data: DataConfig | None = Field(None, description="Training, validation and test data.")
