"""Keras initializers on torch tensors (modelspec.nn.init)."""

from __future__ import annotations

import math

import pytest
import torch

from modelspec.nn.init import initialize


@pytest.mark.parametrize("shape, fan_in, fan_out", [((64, 32), 32, 64), ((16, 3, 3, 3), 27, 144)])
def test_glorot_uniform_respects_its_bound(shape: tuple[int, ...], fan_in: int, fan_out: int) -> None:
    torch.manual_seed(0)
    tensor = initialize(torch.empty(shape), "glorot_uniform")
    bound = math.sqrt(6 / (fan_in + fan_out))
    assert tensor.abs().max() <= bound
    assert tensor.abs().max() > 0.9 * bound  # fills the range, not a narrower one


@pytest.mark.parametrize("shape", [(20, 5), (5, 20)])
def test_orthogonal_is_orthonormal(shape: tuple[int, int]) -> None:
    q = initialize(torch.empty(shape), "orthogonal")
    gram = q.T @ q if shape[0] >= shape[1] else q @ q.T
    torch.testing.assert_close(gram, torch.eye(min(shape)), atol=1e-5, rtol=0)


def test_constant_and_uniform_initializers() -> None:
    assert torch.equal(initialize(torch.randn(3, 4), "zeros"), torch.zeros(3, 4))
    assert torch.equal(initialize(torch.randn(3), "ones"), torch.ones(3))
    uniform = initialize(torch.empty(1000), "uniform")
    assert uniform.abs().max() <= 0.05 and uniform.abs().max() > 0.045


def test_unknown_initializer() -> None:
    with pytest.raises(ValueError, match="unknown initializer"):
        initialize(torch.empty(2), "glorot")  # type: ignore[arg-type]
