"""Sum and average pooling of spikes, folded into the synapse after it.

netx has no pooling layer, but a pool between a neuron layer and the next synapse is a
linear map of the spikes, and so is the synapse: their composition is one synapse on the
unpooled spikes, exact (a Loihi synapse takes binary spikes either way). For a pool of
kernel ``k`` and stride ``s`` (zero padding):

* into a dense synapse (after a Flatten): ``W'[o, c, h, w] = sum of W[o, c, i, j]`` over
  the pooled positions ``(i, j)`` whose window holds ``(h, w)``;
* into a conv of kernel ``K``, stride ``t``, padding ``p``: a conv on the unpooled map of
  kernel ``(K - 1) s + k`` (``W'[o, c, u s + a, v s + b] += W[o, c, u, v]``), stride ``t s``
  and padding ``p s``; with ``p > 0`` only for non-overlapping pools that tile the map
  exactly (``k = s``, ``H = s Hp``), where the conv's zero padding of the pooled map is the
  zero padding of the unpooled one.

``AvgPool2d`` is the sum times ``1 / (kh kw)``.

>>> import nir, numpy as np
>>> p = pool_of("p", nir.SumPool2d(np.array([2, 2]), np.array([2, 2]), np.array([0, 0])),
...             (1, 4, 4))
>>> p.out_shape
(1, 2, 2)
>>> fold_dense(p, np.array([[1.0, 2.0, 3.0, 4.0]]))[0].reshape(4, 4)
array([[1., 1., 2., 2.],
       [1., 1., 2., 2.],
       [3., 3., 4., 4.],
       [3., 3., 4., 4.]])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from mskd.errors import NetError

POOLS = ("SumPool2d", "AvgPool2d")


class Pool(NamedTuple):
    """A pooling node's geometry on the map it pools."""

    name: str
    kernel: tuple[int, int]
    stride: tuple[int, int]
    scale: float  # 1 for a sum, 1 / (kh kw) for an average
    in_shape: tuple[int, int, int]

    @property
    def out_shape(self) -> tuple[int, int, int]:
        c, h, w = self.in_shape
        return (c, (h - self.kernel[0]) // self.stride[0] + 1,
                (w - self.kernel[1]) // self.stride[1] + 1)


def _pair(x) -> tuple[int, int]:
    return tuple(int(v) for v in np.broadcast_to(np.asarray(x).reshape(-1), (2,)))


def pool_of(name: str, node, shape) -> Pool:
    """The :class:`Pool` of a ``SumPool2d``/``AvgPool2d`` node on ``shape`` (C, H, W)."""
    kernel, stride, pad = _pair(node.kernel_size), _pair(node.stride), _pair(node.padding)
    if len(shape) != 3 or any(pad) or min(kernel + stride) < 1 or \
            kernel[0] > shape[1] or kernel[1] > shape[2]:
        raise NetError(f"NIR node '{name}': pooling {kernel} stride {stride} padding {pad} on "
                       f"{tuple(shape)}: only unpadded pools of a (C, H, W) map are folded")
    scale = 1.0 if type(node).__name__ == "SumPool2d" else 1.0 / (kernel[0] * kernel[1])
    return Pool(name, kernel, stride, scale, tuple(int(s) for s in shape))


def _spread(p: Pool, w: np.ndarray, size: tuple[int, int], step: tuple[int, int]):
    """Add ``w[..., i, j]`` at ``[..., i step + a, j step + b]`` for each kernel offset."""
    out = np.zeros((*w.shape[:2], *size))
    hp, wp = w.shape[2:]
    for a in range(p.kernel[0]):
        for b in range(p.kernel[1]):
            out[:, :, a:a + step[0] * (hp - 1) + 1:step[0],
                b:b + step[1] * (wp - 1) + 1:step[1]] += w
    return p.scale * out


def fold_dense(p: Pool, w: np.ndarray) -> np.ndarray:
    """Dense weights ``[O, C Hp Wp]`` on the pooled map -> ``[O, C H W]`` on the unpooled."""
    c, hp, wp = p.out_shape
    return _spread(p, w.reshape(w.shape[0], c, hp, wp), p.in_shape[1:],
                   p.stride).reshape(w.shape[0], -1)


def fold_conv(p: Pool, w: np.ndarray, stride, padding, dilation, name: str):
    """Conv weights/geometry on the pooled map -> (weights, stride, padding) on the unpooled
    map (NetError where the composition is not one conv; see the module docstring)."""
    stride, padding, dilation = _pair(stride), _pair(padding), _pair(dilation)
    tiles = p.kernel == p.stride and p.in_shape[1:] == tuple(
        s * n for s, n in zip(p.stride, p.out_shape[1:], strict=True))
    if dilation != (1, 1) or (any(padding) and not tiles):
        raise NetError(f"NIR node '{name}': a conv with dilation {dilation} or padding "
                       f"{padding} after pooling '{p.name}' that does not tile the map is not "
                       "one conv: export the pooling as a strided Conv2d")
    size = tuple((k - 1) * s + pk for k, s, pk in zip(w.shape[2:], p.stride, p.kernel,
                                                       strict=True))
    return (_spread(p, w, size, p.stride),
            tuple(t * s for t, s in zip(stride, p.stride, strict=True)),
            tuple(q * s for q, s in zip(padding, p.stride, strict=True)))
