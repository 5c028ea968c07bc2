"""Dense as a torch module: y = x @ kernel.T + bias over the last axis (kernel in torch.nn.Linear's layout)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from modelspec.initializers import InitializerName
from modelspec.nn.init import initialize


class KerasDense(nn.Module):
    """Keras's Dense without its activation (the compiled graph applies it).

    Args: in_features, units, use_bias, kernel_initializer, bias_initializer.
    Shape: (..., in_features) -> (..., units).
    """

    def __init__(
        self,
        in_features: int,
        units: int,
        *,
        use_bias: bool = True,
        kernel_initializer: InitializerName = "glorot_uniform",
        bias_initializer: InitializerName = "zeros",
    ):
        super().__init__()
        self.kernel = nn.Parameter(torch.empty(units, in_features))
        self.bias = nn.Parameter(torch.empty(units)) if use_bias else None
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.reset_parameters()

    def reset_parameters(self) -> None:
        initialize(self.kernel, self.kernel_initializer)
        if self.bias is not None:
            initialize(self.bias, self.bias_initializer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.kernel, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.kernel.shape[1]}, units={self.kernel.shape[0]}, use_bias={self.bias is not None}"
