"""The pydantic base every spec model derives from: strict types, unknown keys rejected.

Strict mode matters for YAML: in lax mode pydantic reads `units: true` as 1 and
`units: "8"` as 8. Each model also records, in the validation context, which class
validated which dict, so that an unknown key can be answered with the closest field name.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

#: A name that can be a Python identifier: layer, input, output and model names.
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Dimension = Annotated[int, Field(gt=0)] | None
Probability = Annotated[float, Field(ge=0.0, lt=1.0)]


class StrictModel(BaseModel):
    """Base of every spec model: strict types and no unknown keys."""

    model_config = ConfigDict(strict=True, extra="forbid", validate_default=False, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _remember_model(cls, data: Any, info: ValidationInfo) -> Any:
        # Lets the error mapper suggest a field name for an unknown key ("did you mean").
        if isinstance(data, dict) and isinstance(info.context, dict):
            info.context.setdefault("models", {})[id(data)] = cls
        return data

    @classmethod
    def field_names(cls) -> list[str]:
        return list(cls.model_fields)
