"""NIR ``Scale`` nodes, folded into the synapse next to them (netx has no scale layer).

A ``Scale`` multiplies its input element-wise by ``scale``; a synapse is linear, so:

* on the spikes into a synapse (after the input, a neuron layer, a pool or a flatten): the
  synapse's weights are scaled per input, ``W'[:, j] = W[:, j] scale[j]`` (a conv: per
  input channel, ``W'[:, c] = W[:, c] scale[c]``);
* between a synapse and its neuron: the synapse's output rows, ``W'[i] = scale[i] W[i]``
  and ``b'[i] = scale[i] b[i]``.

Both are exact: the deployed synapse takes the same binary spikes. ``scale`` holds one
value, one per element of the map it scales, or (on a ``(C, H, W)`` map) one per channel.
Refused, naming the node: a per-position scale into a conv or a pooling (a conv shares its
weights across positions), a size that fits no shape, and a Scale after the last layer.

>>> import nir, numpy as np
>>> m = scale_map(None, nir.Scale(np.array([2.0, 3.0])), "s", (2, 4, 4))
>>> m.shape, per_channel(m, "s", "a conv after it").tolist()
((2, 4, 4), [2.0, 3.0])
"""

from __future__ import annotations

import numpy as np

from mskd.errors import NetError


def _values(node, name: str) -> np.ndarray:
    a = np.asarray(node.scale, dtype=np.float64)
    if a.size == 0 or not np.all(np.isfinite(a)):
        raise NetError(f"NIR node '{name}': field 'scale' is empty or not finite")
    return a


def scale_map(prev: np.ndarray | None, node, name: str, shape) -> np.ndarray:
    """The Scale ``node`` on a map of ``shape`` as an array of that shape (times ``prev``,
    a Scale before it)."""
    a, shape = _values(node, name), tuple(int(s) for s in shape)
    if a.size == 1:
        m = np.full(shape, float(a.reshape(-1)[0]))
    elif a.size == int(np.prod(shape)):
        m = a.reshape(shape)
    elif len(shape) == 3 and a.size == shape[0]:
        m = np.broadcast_to(a.reshape(-1, 1, 1), shape).copy()
    else:
        raise NetError(f"NIR node '{name}': field 'scale' has {a.size} values for input "
                       f"{shape} (expected 1, one per element or one per channel)")
    return m if prev is None else m * np.broadcast_to(prev, shape)


def per_channel(m: np.ndarray, name: str, why: str) -> np.ndarray:
    """One value per channel of a ``(C, H, W)`` scale map, or NetError."""
    if m.ndim != 3:
        raise NetError(f"NIR node '{name}': a Scale on a flat vector cannot precede {why}")
    flat = m.reshape(m.shape[0], -1)
    if np.any(flat != flat[:, :1]):
        raise NetError(f"NIR node '{name}': field 'scale' differs within a channel, which "
                       f"{why} cannot hold (one weight per channel across positions): give "
                       "each channel one scale")
    return flat[:, 0].copy()


def fold_scale(prev, node, name: str) -> np.ndarray:
    """A Scale between a synapse and its neuron: its values (times ``prev``'s), checked
    against the synapse's outputs by the quantizer."""
    a = _values(node, name).reshape(-1)
    if prev is None:
        return a
    if a.size != 1 and prev.size != 1 and a.size != prev.size:
        raise NetError(f"NIR node '{name}': field 'scale' has {a.size} values, the Scale "
                       f"before it {prev.size}")
    return a * prev


def last_scale(nodes) -> str:
    """The name of the last Scale node in the chain."""
    return [n for n, node in nodes if type(node).__name__ == "Scale"][-1]
