"""Shape arithmetic shared by the shape rules (modelspec.layers) and the torch modules (modelspec.nn).

Plain Python, no torch and no pydantic: the convolution and pooling configs compute their output
lengths with it, and the modules in modelspec.nn.conv and modelspec.nn.pooling their padding and
crops, so the shape rules and the modules cannot disagree.

- Window arguments are an int for every spatial axis or one entry per axis (`per_axis`, Keras's
  `standardize_tuple`).
- Output lengths follow Keras 3 (`compute_conv_output_shape`, `compute_conv_transpose_output_shape`):
  valid: floor((n - span) / stride) + 1 with span = dilation * (kernel - 1) + 1; same and causal:
  ceil(n / stride).
- `same` padding is TensorFlow's: total = max((out - 1) * stride + span - n, 0), the odd unit
  after (bottom/right); `causal` pads span - 1 before.
- Transposed convolutions crop the full output (n - 1) * stride + span the way Keras 3 does on
  every backend (the JAX padding rule); a negative crop adds zeros.
"""

from __future__ import annotations

from collections.abc import Callable


def per_axis(value: int | list[int], rank: int) -> tuple[int, ...]:
    """Keras's int-or-tuple argument as one int per spatial axis."""
    return (value,) * rank if isinstance(value, int) else tuple(value)


def span(kernel: int, dilation: int = 1) -> int:
    """Extent of a dilated window."""
    return dilation * (kernel - 1) + 1


def conv_output_length(size: int | None, kernel: int, stride: int, dilation: int, padding: str) -> int | None:
    """Keras's output length of one spatial axis of a convolution or pooling (None when unknown)."""
    if size is None:
        return None
    if padding in ("same", "causal"):
        return -(-size // stride)
    return (size - span(kernel, dilation)) // stride + 1


def transpose_output_length(
    size: int | None, kernel: int, stride: int, dilation: int, padding: str, output_padding: int | None
) -> int | None:
    """Keras 3's output length of a transposed convolution (`_get_output_shape_given_tf_padding`)."""
    if size is None:
        return None
    extent = span(kernel, dilation)
    if padding == "valid":
        extra = max(extent, stride) - extent if output_padding is None else output_padding
        return (size - 1) * stride + extent + extra
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + extent % 2 + output_padding


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's (before, after) padding so that output = ceil(size / stride); the odd unit goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + span(kernel, dilation) - size, 0)
    return total // 2, total - total // 2


def window_padding(size: int, kernel: int, stride: int, dilation: int, padding: str) -> tuple[int, int]:
    """(before, after) padding of one axis for valid, same or causal."""
    if padding == "same":
        return same_padding(size, kernel, stride, dilation)
    if padding == "causal":
        return span(kernel, dilation) - 1, 0
    return 0, 0


def transpose_crops(kernel: int, stride: int, dilation: int, padding: str, output_padding: int | None) -> tuple[int, int]:
    """(before, after) amounts cut from the full transposed output (n - 1) * stride + span; negative adds zeros.

    Keras 3 pads the stride-dilated input by (left, right) and correlates with the window; the full
    output corresponds to left = right = span - 1, so the crops are span - 1 - left and span - 1 - right.
    """
    extent = span(kernel, dilation)
    if padding == "valid":
        extra = max(extent, stride) - extent if output_padding is None else output_padding
        return 0, -extra
    total = stride + extent - 2 if output_padding is None else extent + extent % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, extent - 1)
    return extent - 1 - left, extent - 1 - (total - left)


def smallest_input(length: Callable[[int], int | None]) -> int:
    """The smallest size that `length` maps to a positive output (lengths grow with the size).

    Doubling, then bisection: a few dozen calls even for a kernel of 10**12 (counting up one size
    at a time hung validation on such a spec)."""
    def positive(size: int) -> bool:
        return (length(size) or 0) > 0

    high = 1
    while not positive(high):
        high *= 2
    low = high // 2  # not positive (or 0): the answer is in (low, high]
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if positive(middle) else (middle, high)
    return high
