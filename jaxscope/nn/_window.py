"""TF's window geometry: data formats, ``strides``/``ksize``/``dilations`` lists, padding.

A *layout* is a lax dimension string such as ``"NHWC"`` or ``"NCDHW"``; lax takes it as
``dimension_numbers`` directly, so channels-first inputs need no transpose. Padding is
always resolved to explicit ``(before, after)`` pairs with TF's arithmetic: for SAME,
``out = ceil(in / stride)`` and the odd pixel of padding goes at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Padding = str | Sequence[Sequence[int]]

_CHANNELS_LAST = {1: "NWC", 2: "NHWC", 3: "NDHWC"}
_CHANNELS_FIRST = {1: "NCW", 2: "NCHW", 3: "NCDHW"}


def layout(data_format: str | None, n: int, op: str) -> str:
    """The lax layout of an ``n``-D op (``"NHWC"``, ``"NCW"``, ...) for TF's ``data_format``.

    The 2-D names are accepted for any rank (TF1's conv1d takes them; pools go by rank).
    """
    if data_format is None:
        return _CHANNELS_LAST[n]
    fmt = data_format.decode() if isinstance(data_format, bytes) else str(data_format)
    fmt = fmt.upper()
    if fmt in (_CHANNELS_LAST[n], "NHWC"):
        return _CHANNELS_LAST[n]
    if fmt in (_CHANNELS_FIRST[n], "NCHW"):
        return _CHANNELS_FIRST[n]
    raise ValueError(
        f"{op}: data_format must be {_CHANNELS_LAST[n]!r} or {_CHANNELS_FIRST[n]!r} for a "
        f"{n}-D op, got {data_format!r}."
    )


def channel_axis(lay: str) -> int:
    """Index of the channel (``C``) dimension of a layout."""
    return lay.index("C")


def spatial_axes(lay: str) -> tuple[int, ...]:
    """Indices of the spatial dimensions of a layout, in order."""
    return tuple(i for i, d in enumerate(lay) if d not in "NC")


def kernel_layout(lay: str, io: str = "IO") -> str:
    """The filter layout TF uses with ``lay``: spatial dims then ``io`` (``"HWIO"``)."""
    return "".join(lay[i] for i in spatial_axes(lay)) + io


def window_param(value: Any, n: int, lay: str, what: str, op: str) -> tuple[int, ...]:
    """``n`` spatial values from an int, a list of 1 or ``n``, or TF's full list of ``n + 2``.

    In a full list the batch and channel entries must be 1, as TF's kernels require.
    """
    if value is None:
        return (1,) * n
    values = [value] if isinstance(value, int) or not hasattr(value, "__len__") else value
    values = [int(v) for v in values]
    if len(values) == 1:
        values = values * n
    elif len(values) == n + 2:
        batch_channel = (values[0], values[channel_axis(lay)])
        if batch_channel != (1, 1):
            raise ValueError(
                f"{op}: {what}={list(value)} for data_format {lay!r}: the current "
                f"implementation does not yet support {what} in the batch and depth "
                "dimensions (those entries must be 1), as TF."
            )
        values = [values[i] for i in spatial_axes(lay)]
    elif len(values) != n:
        raise ValueError(
            f"{op}: {what} should be of length 1, {n} or {n + 2}. Received: {what}={value!r} "
            f"of length {len(values)}."
        )
    if any(v < 1 for v in values):
        raise ValueError(f"{op}: {what} must be positive, got {value!r}.")
    return tuple(values)


def same_padding(size: int, window: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TF's SAME padding of one dimension: ``(before, after)``, the extra pixel after.

    >>> same_padding(8, 3, 2)  # out = 4; total = 3*2 + 3 - 8 = 1
    (0, 1)
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + (window - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def padding_pairs(
    padding: Padding,
    sizes: Sequence[int],
    window: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    lay: str,
    op: str,
) -> tuple[tuple[int, int], ...]:
    """Explicit ``(before, after)`` padding of each spatial dimension, as TF computes it.

    ``padding`` is ``"SAME"``, ``"VALID"``, or TF's explicit list of ``n + 2`` pairs in
    ``lay`` order (batch and channel pairs ``[0, 0]``); ``n`` spatial pairs are accepted too.
    Raises TF's "Negative dimension size" ValueError when a window does not fit.
    """
    n = len(sizes)
    if isinstance(padding, (str, bytes)):
        mode = padding.decode() if isinstance(padding, bytes) else padding
        mode = mode.upper()
        if mode == "SAME":
            pairs = tuple(
                same_padding(*args) for args in zip(sizes, window, strides, dilations)
            )
        elif mode == "VALID":
            pairs = ((0, 0),) * n
        else:
            raise ValueError(
                f'{op}: padding must be "SAME", "VALID" or a list of (before, after) pairs, '
                f"got {padding!r}."
            )
    else:
        pairs = _explicit_pairs(padding, n, lay, op)
    for size, k, d, (lo, hi) in zip(sizes, window, dilations, pairs):
        effective = (k - 1) * d + 1
        if size + lo + hi < effective:
            raise ValueError(
                f"{op}: Negative dimension size caused by subtracting {effective} from "
                f"{size + lo + hi} (input size {size}, padding ({lo}, {hi}), window {k}, "
                f"dilation {d})."
            )
    return pairs


def _explicit_pairs(padding: Any, n: int, lay: str, op: str) -> tuple[tuple[int, int], ...]:
    try:
        pairs = [tuple(int(v) for v in pair) for pair in padding]
    except TypeError:
        pairs = []
    if len(pairs) not in (n, n + 2) or any(len(p) != 2 for p in pairs):
        raise ValueError(
            f"{op}: an explicit padding must be a list of {n + 2} (before, after) pairs in "
            f"data_format order, e.g. {_example_padding(lay)}; got {padding!r}."
        )
    if len(pairs) == n + 2:
        if pairs[0] != (0, 0) or pairs[channel_axis(lay)] != (0, 0):
            raise ValueError(
                f"{op}: explicit padding of the batch and depth dimensions must be [0, 0] "
                f"(data_format {lay!r}), got {padding!r}."
            )
        pairs = [pairs[i] for i in spatial_axes(lay)]
    if any(v < 0 for pair in pairs for v in pair):
        raise ValueError(f"{op}: all explicit paddings must be nonnegative, got {padding!r}.")
    return tuple(pairs)


def _example_padding(lay: str) -> list[list[int]]:
    return [[0, 0] if d in "NC" else [1, 1] for d in lay]


def output_size(size: int, window: int, stride: int, dilation: int, pair: tuple[int, int]) -> int:
    """Length of a strided, dilated window's output over a padded dimension."""
    return (size + sum(pair) - ((window - 1) * dilation + 1)) // stride + 1


def full_rank(values: Sequence[Any], lay: str, fill: Any) -> tuple[Any, ...]:
    """Spatial ``values`` spread into a tuple over all of ``lay``, ``fill`` at N and C."""
    out = [fill] * len(lay)
    for axis, value in zip(spatial_axes(lay), values):
        out[axis] = value
    return tuple(out)

