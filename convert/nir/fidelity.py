"""How faithfully a NIR import runs: the source graph in float against the deployed network.

The float reference runs the graph as read (:mod:`mskd.convert.nir.importer`: the ``--from``
preset's step, decay rule and input gains) with nothing rounded: float64 weights with the
input gain and thresholds folded in (pooling folded, as deployed), the unrounded decay
fractions, the source's own reset (``subtract``: ``v -= threshold`` per spike) and spike
rule (``multi``: ``floor(v / threshold)`` spikes per step), and a bias into a current-based
layer entering the current (what the source means; Loihi's bias enters v). Per layer and
step: ``I' = I (1 - f_syn) + W x + W_rec s_own + b`` (``s_own``: a recurrent layer's own
spikes of the step before, as netx's ``dense_rec``), ``v' = v (1 - f_mem) + I'``, a spike
when ``v' > threshold``; each layer takes the previous layer's spikes of the same step.

The deployed network is the written netx network in the bit-exact simulator
(:func:`mskd.sim.simulator.run`). It answers one step later per synaptic layer: its k-th
neuron layer (1-based) responds to an input spike at step t at step t + k (each synapse
delivers one step after the spike). So the input is followed by zero steps and layer k is
read from step k on: the **one-step-per-layer lag aligned**.

Inputs: ``samples`` Bernoulli spike trains of ``steps`` steps with probability ``p``
(seeded), or the user's own (``--data X.npy``: ``[samples, steps, *input shape]``, 0/1).
A graph imported with graded input (:mod:`mskd.loihi.graded`) is driven with analog values
instead: uniform in the declared ``[lo, hi]`` (seeded, a new value per input and step) or
the user's own (``--data``, values in ``[lo, hi]``). The float reference takes ``x`` itself
(its first synapse holds ``W / S``, fed ``x S``), the deployed network the payloads
``round(x S)`` it would get on the chip: the report includes the input's rounding.

Per spiking layer: the spike-count ratio (deployed / float), the share of float spikes sent
on the very same step by the deployed layer (exact-time overlap), both layers' spike rates;
per layer the quantization (weight exponent, weights rounded to zero, clipped); the output
class agreement (most spikes, or highest mean readout v for an LI readout). Verdict
(:data:`GOOD` and :data:`POOR` bounds):

* ``GOOD``: every spike ratio within 0.95-1.05, class agreement >= 90 %, and every spiking
  layer active (on average at least one float spike per sample);
* ``POOR``: a spiking layer silent in the float reference or in the deployed network (the
  inputs do not exercise it: often a wrong ``--dt`` or ``--from``), a spike ratio outside
  0.8-1.25, or class agreement < 75 %;
* ``FAIR``: in between.

The GOOD bounds are those the framework-against-deployed tests hold
(``tests/test_convert_byom.py``: ratios 0.999-1.022, class agreement 96-100 %).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from mskd.errors import NetError
from mskd.loihi.lif import LifState, float_lif_step, float_synapse

GOOD = {"ratio": (0.95, 1.05), "agreement": 0.90}
POOR = {"ratio": (0.8, 1.25), "agreement": 0.75}
SAMPLES, STEPS, P_SPIKE, SEED = 128, 60, 0.2, 0


def random_inputs(shape, samples: int = SAMPLES, steps: int = STEPS, p: float = P_SPIKE,
                  seed: int = SEED) -> torch.Tensor:
    """Bernoulli spike trains ``[samples, steps, *shape]`` (float64 0/1)."""
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(samples, steps, *shape, generator=g) < p).double()


def random_analog(shape, lo: float, hi: float, samples: int = SAMPLES, steps: int = STEPS,
                  seed: int = SEED) -> torch.Tensor:
    """Analog inputs ``[samples, steps, *shape]`` (float64), uniform in ``[lo, hi]``."""
    g = torch.Generator().manual_seed(seed)
    return lo + (hi - lo) * torch.rand(samples, steps, *shape, generator=g, dtype=torch.float64)


def load_inputs(path: str | Path, shape, graded=None) -> torch.Tensor:
    """``--data``: a ``.npy`` array ``[samples, steps, *shape]`` of 0/1 spikes (of analog
    values in the declared range with ``graded``)."""
    try:
        a = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise NetError(f"{path}: not a readable .npy array ({exc})") from None
    if len(shape) == 3 and shape[1] == 1 and tuple(a.shape[2:]) == (shape[0], shape[2]):
        a = a.reshape(*a.shape[:2], *shape)  # a Conv1d graph's (C, L) input, deployed (C, 1, L)
    if a.ndim != 2 + len(shape) or tuple(a.shape[2:]) != tuple(shape) or 0 in a.shape[:2]:
        raise NetError(f"{path}: shape {tuple(a.shape)} is not [samples, steps, "
                       f"{', '.join(map(str, shape))}] (the graph's input)")
    if graded is not None:
        from mskd.loihi.graded import encode

        try:
            encode(a, graded)
        except ValueError as exc:
            raise NetError(f"{path}: {exc} (--input-range)") from None
    elif not np.isin(a, (0, 1)).all():
        raise NetError(f"{path}: values must be 0 or 1 (input spikes)")
    return torch.from_numpy(a.astype(np.float64))


def _synapse(flt, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    g = flt.geo or {}
    return float_synapse(x, w, stride=g.get("stride", 1), padding=g.get("padding", 0),
                         dilation=g.get("dilation", 1))


@torch.no_grad()
def float_reference(floats, x: torch.Tensor, reset: str, spikes: str):
    """Run the float reference on ``x`` ``[B, T, *shape]``: per layer the spikes ``[T, B,
    ...]`` (None for a readout) and v ``[T, B, ...]``."""
    ws = [torch.as_tensor(f.w) for f in floats]
    bs = [None if f.bias is None else torch.as_tensor(f.bias) for f in floats]
    rs = [None if f.w_rec is None else torch.as_tensor(f.w_rec) for f in floats]
    batch, steps = x.shape[:2]
    state = [None] * len(floats)
    out_s = [[] for _ in floats]
    out_v = [[] for _ in floats]
    seen = [[] for _ in floats]  # each layer's input spikes so far, for DelayDense
    for t in range(steps):
        s = x[:, t]
        for k, f in enumerate(floats):
            if f.delay is None:
                a = _synapse(f, s, ws[k])
            else:  # synapse (o, i) takes the spike of input i sent delay[o, i] steps ago
                seen[k].append(s.flatten(1))
                a = torch.zeros(batch, ws[k].shape[0], dtype=torch.float64)
                for d in np.unique(f.delay):
                    if t >= d:
                        a = a + seen[k][t - d] @ (ws[k] * torch.as_tensor(f.delay == d)).T
            if bs[k] is not None:
                a = a + bs[k].reshape(-1, *[1] * (a.dim() - 2))
            i, v, own = state[k] if state[k] is not None else (torch.zeros_like(a),) * 3
            if rs[k] is not None:  # dense_rec: the layer's own spikes of the step before
                a = a + own @ rs[k].T
            s, st = float_lif_step(a, LifState(i, v), f.syn_frac, f.mem_frac, f.threshold,
                                   reset=reset, multi=spikes == "multi")
            if s is not None:
                out_s[k].append(s)
            state[k] = (st.u, st.v, s)
            out_v[k].append(st.v)
    return ([torch.stack(o) if o else None for o in out_s], [torch.stack(o) for o in out_v])


def deployed_run(spec, x: torch.Tensor):
    """The simulator's spikes and v per neuron layer ``[T, B, ...]``, lag aligned; ``x``:
    the network's input (spikes, or graded payloads)."""
    from mskd.sim.simulator import run

    batch, steps = x.shape[:2]
    pad = torch.zeros(batch, len(spec.layers) + 1, *x.shape[2:], dtype=x.dtype)
    _, rec = run(spec, torch.cat([x, pad], 1).to(torch.int64), record=("v",))
    names = [la.name for la in rec.layers]
    return ([rec.spikes[n][k + 1:k + 1 + steps].double() for k, n in enumerate(names)],
            [rec.v[n][k + 1:k + 1 + steps].double() for k, n in enumerate(names)])


def _verdict(rows, agreement: float) -> tuple[str, str]:
    silent = [r["layer"] for r in rows if r["threshold"] is not None and (
        r["float_spikes"] < r["samples"] or r["deployed_spikes"] == 0)]
    ratios = [r["spike_ratio"] for r in rows if r["spike_ratio"] is not None]
    lo, hi = (min(ratios), max(ratios)) if ratios else (float("nan"),) * 2
    what = f"class agreement {100 * agreement:.1f} %" + (
        f", spike ratios {lo:.3f}-{hi:.3f}" if ratios else "")
    if silent:  # class agreement says nothing where the output does not spike
        return "POOR", (f"layer(s) {', '.join(repr(s) for s in silent)} (nearly) silent on "
                        "these inputs: check --from/--dt"
                        + (f"; spike ratios {lo:.3f}-{hi:.3f}" if ratios else ""))
    if agreement < POOR["agreement"] or lo < POOR["ratio"][0] or hi > POOR["ratio"][1]:
        return "POOR", what
    if agreement >= GOOD["agreement"] and lo >= GOOD["ratio"][0] and hi <= GOOD["ratio"][1]:
        return "GOOD", what
    return "FAIR", what


def _drive(graded, shape, x, origin, samples):
    """``(x, origin, float input, deployed input)``: spikes drive both alike; analog ``x``
    drives the float reference as ``x S`` (its first synapse holds ``W / S``) and the
    deployed network as the payloads ``round(x S)`` (:func:`mskd.loihi.graded.encode`)."""
    if graded is None:
        if x is None:
            x, origin = random_inputs(shape, samples), (
                f"{samples} random spike trains of {STEPS} steps (p {P_SPIKE}, seed {SEED})")
        return x, origin, x, x
    from mskd.loihi.graded import encode

    if x is None:
        lo, hi = graded.input_range
        x, origin = random_analog(shape, lo, hi, samples), (
            f"{samples} random analog inputs of {STEPS} steps, uniform in [{lo:g}, {hi:g}] "
            f"(seed {SEED})")
    origin += f"; deployed as {graded.describe()}"
    return x, origin, x * graded.input_scale, encode(x, graded)


def fidelity(imp, x: torch.Tensor | None = None, origin: str | None = None,
             samples: int = SAMPLES) -> dict:
    """The fidelity section of the report for a :class:`~mskd.convert.nir.importer.NirImport`
    (see the module docstring); ``x`` ``[B, T, *shape]`` or None for ``samples`` random
    inputs."""
    in_shape = tuple(imp.spec.layers[0].out_shape)
    x, origin, f_in, d_in = _drive(imp.graded, in_shape, x, origin, samples)
    conv = imp.conventions
    f_s, f_v = float_reference(imp.floats, f_in, conv.reset, conv.spikes)
    d_s, d_v = deployed_run(imp.spec, d_in)
    rows = []
    for k, flt in enumerate(imp.floats):
        row = {"layer": flt.neuron, "synapse": flt.synapse, "threshold": flt.threshold,
               "samples": int(x.shape[0]), "weight_exp": flt.exponent,
               "weights": flt.weights, "zeroed": flt.zeroed, "clipped": flt.clipped,
               "float_spikes": 0, "deployed_spikes": 0, "spike_ratio": None,
               "same_step": None}
        if f_s[k] is not None:
            fs, ds = float(f_s[k].sum()), float(d_s[k].sum())
            row.update(float_spikes=int(fs), deployed_spikes=int(ds),
                       float_rate=fs / f_s[k].numel(), deployed_rate=ds / d_s[k].numel(),
                       spike_ratio=ds / fs if fs else None,
                       same_step=float(torch.minimum(f_s[k], d_s[k]).sum()) / fs if fs
                       else None)
        rows.append(row)
    last = imp.floats[-1]
    if last.threshold is None:  # an LI readout: the highest mean v
        f_score = f_v[-1].mean(0)
        d_score = d_v[-1].mean(0) / imp.readout_scale
        by = "highest mean readout v"
    else:
        f_score, d_score, by = f_s[-1].sum(0), d_s[-1].sum(0), "most output spikes"
    f_score, d_score = f_score.flatten(1), d_score.flatten(1)
    agreement = float((f_score.argmax(1) == d_score.argmax(1)).double().mean())
    verdict, why = _verdict(rows, agreement)
    return {"inputs": origin, "samples": int(x.shape[0]), "steps": int(x.shape[1]),
            "reference": f"NIR graph in float64 as read (--from {conv.preset.name}, dt "
                         f"{conv.dt:g}, {conv.reset} reset, {conv.spikes} spike(s))",
            "class_by": by, "class_agreement": agreement, "layers": rows,
            "verdict": verdict, "why": why, "line": f"fidelity: {verdict} ({why})"}


def short_lines(fid: dict) -> list[str]:
    """The CLI's summary: one line per layer, then the verdict."""
    lines = []
    for r in fid["layers"]:
        q = (f"weights 2**{r['weight_exp']}, {r['zeroed']} of {r['weights']} rounded to 0"
             + (f", {r['clipped']} clipped" if r["clipped"] else ""))
        if r["threshold"] is None:
            lines.append(f"  layer '{r['layer']}' (readout): {q}")
        elif r["spike_ratio"] is None:
            lines.append(f"  layer '{r['layer']}': no float spikes "
                         f"({r['deployed_spikes']} deployed); {q}")
        else:
            lines.append(f"  layer '{r['layer']}': spike ratio {r['spike_ratio']:.3f}, same "
                         f"step {100 * r['same_step']:.1f} %; {q}")
    return lines + [fid["line"] + f"; {fid['samples']} inputs x {fid['steps']} steps"]
