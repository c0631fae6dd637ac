"""Host-side frame preprocessing shared by the student and the deployed network's encoding.

The student's training forward and the input encoding of a converted network
(:mod:`mskd.net.encoding`) must turn frames into the same input-layer drive, so the two steps
are defined once, here.
"""

from __future__ import annotations

import torch


def normalize_frames(frames: torch.Tensor, mode: str) -> torch.Tensor:
    """Host-side input scaling in float64, applied before ``round(x * input_gain)``.

    ``none``: the pixel as is. ``minmax``: per clip (per batch item, over all its frames)
    ``(x - min) / (max - min)``, or 0 for a constant clip: undoes global lighting changes.

    >>> normalize_frames(torch.tensor([[0.25, 0.5, 0.75]]), "minmax").tolist()
    [[0.0, 0.5, 1.0]]
    """
    x = frames.detach().double()
    if mode == "none":
        return x
    flat = x.reshape(x.shape[0], -1)
    lo = flat.min(1).values.reshape(-1, *[1] * (x.dim() - 1))
    span = flat.max(1).values.reshape(-1, *[1] * (x.dim() - 1)) - lo
    return torch.where(span > 0, (x - lo) / span.clamp(min=1e-12), torch.zeros_like(x))


def stack_history(frames: torch.Tensor, history: int) -> torch.Tensor:
    """``[B, n, 1, H, W] -> [B, n, history, H, W]``: channel j of slot k is frame k - j.

    Frames before the clip repeat frame 0. With ``history = 2`` the first conv can take
    frame differences, which is where motion lives in a frames-only clip.

    >>> stack_history(torch.arange(3.0).reshape(1, 3, 1, 1, 1), 2).flatten().tolist()
    [0.0, 0.0, 1.0, 0.0, 2.0, 1.0]
    """
    n = frames.shape[1]
    chans = [frames[:, [max(k - j, 0) for k in range(n)], 0] for j in range(history)]
    return torch.stack(chans, dim=2)


def input_mantissa(frames: torch.Tensor, input_gain: int, input_norm: str,
                   input_history: int) -> torch.Tensor:
    """``round(x * input_gain)`` (float64, half to even) with ``x`` the preprocessed frames:
    the input layer's ``bias_mant`` per pixel, ``[B, n, history, H, W]``.

    >>> input_mantissa(torch.tensor([[[[[0.5]]]]]), 3, "none", 1).flatten().tolist()
    [2.0]
    """
    x = stack_history(normalize_frames(frames, input_norm), input_history)
    return torch.round(x * int(input_gain))


def frame_schedule(n_frames: int, steps_per_frame: int, latency: int) -> list[int]:
    """The clip frame shown at each step: frame ``k`` for ``steps_per_frame`` steps, the
    last frame held ``latency`` more steps (one per synaptic layer).

    >>> frame_schedule(2, 2, 1)
    [0, 0, 1, 1, 1]
    """
    steps = n_frames * steps_per_frame + latency
    return [min(t // steps_per_frame, n_frames - 1) for t in range(steps)]
