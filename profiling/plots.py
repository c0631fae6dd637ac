"""PNG plots of a profile report (and the demo's confusion matrix), each written atomically.

* ``activity.png``: spikes and synops per inference, per layer (log scale).
* ``energy.png``: energy per inference by layer, stacked by operation kind, and by
  operation kind with the total; only the kinds that cost something.
* ``raster.png``: what sample 0 sent, one panel per layer, integer step ticks, frame
  boundaries and the readout window when the encoding is known, the true and predicted
  class in the title; a layer that never sends (the output layer, read as its mean
  voltage) is drawn as its voltage traces, one per class; for a sigma-delta layer a dot is
  a graded message event (a non-zero payload).
* ``steps.png``: synops per time step, per receiving layer (mean over samples), legend
  beside the axes, a log axis when the layers differ by orders of magnitude.
* ``confusion.png`` (:func:`plot_confusion`): counts and row shares, classes by name.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from mskd.fsio import atomic_path  # noqa: E402

PJ_PER_UJ = 1e6
MAX_RASTER_NEURONS = 2000  # plot at most this many neurons per layer (evenly spaced)
LOG_RANGE = 100.0  # per-step series whose peaks differ by more than this get a log axis


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight",
                    metadata={"Software": None})
    plt.close(fig)
    return path


def plot_activity(rep: dict, path: Path) -> Path:
    per = rep["counts"]["per_inference"]
    names = list(per["spikes"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, key, label in ((axes[0], "spikes", "messages"), (axes[1], "synops", "synaptic ops")):
        values = [max(per[key][n], 0) for n in names]
        bars = ax.bar(names, values, color="tab:blue" if key == "spikes" else "tab:orange")
        ax.bar_label(bars, labels=["0" if v == 0 else "" for v in values], fontsize=8)
        ax.set_yscale("symlog", linthresh=1)
        ax.set_ylim(0, max(max(values) * 3, 10))  # room above the tallest bar (log axis)
        ax.set_ylabel(f"{label} per inference")
        ax.set_xlabel("layer")
        ax.set_title(f"{label} per layer ({rep['samples']} samples, {rep['steps']} steps)")
        ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    return _save(fig, path)


def plot_energy(rep: dict, path: Path) -> Path:
    per_layer = rep["energy"]["per_layer"]
    by_kind = rep["energy"]["by_kind"]
    names = list(per_layer)
    kinds = [k for k in by_kind if by_kind[k] > 0] or list(by_kind)[:1]
    total = rep["energy"]["total"] / PJ_PER_UJ
    fig, (ax_l, ax_k) = plt.subplots(1, 2, figsize=(11, 4), width_ratios=[3, 2])
    colors = dict(zip(by_kind, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    bottom = np.zeros(len(names))
    for kind in kinds:
        vals = np.array([per_layer[n][kind] for n in names]) / PJ_PER_UJ
        ax_l.bar(names, vals, bottom=bottom, label=kind, color=colors[kind])
        bottom += vals
    ax_l.set_ylabel("energy per inference (µJ)")
    ax_l.set_xlabel("layer")
    ax_l.set_title(f"energy by layer on {rep['profile']['name']}")
    ax_l.legend(fontsize=8)
    ax_l.tick_params(axis="x", rotation=30)
    labels = [*kinds, "total"]
    values = [by_kind[k] / PJ_PER_UJ for k in kinds] + [total]
    bars = ax_k.barh(labels, values, color=[colors[k] for k in kinds] + ["black"])
    ax_k.bar_label(bars, labels=[f"{v:.3g}" for v in values], padding=3, fontsize=8)
    ax_k.set_xlim(0, total * 1.25)
    ax_k.set_xlabel("energy per inference (µJ)")
    ax_k.set_title(f"by operation: total {total:.4g} µJ per inference")
    if rep["assumptions"]:
        fig.text(0.01, -0.02, f"{len(rep['assumptions'])} profile figures ASSUMED, see report",
                 fontsize=8, color="tab:red")
    fig.tight_layout()
    return _save(fig, path)


def _frame_marks(ax, sample: dict, steps: int) -> None:
    """Frame boundaries (dotted) and the start of the readout window (dashed)."""
    spf, n = sample.get("steps_per_frame"), sample.get("n_frames")
    if spf:
        for k in range(1, (n or steps // spf) + 1):
            if k * spf < steps:
                ax.axvline(k * spf - 0.5, color="tab:blue", lw=0.6, ls=":")
    if sample.get("latency") is not None:
        ax.axvline(sample["latency"] - 0.5, color="tab:red", lw=0.8, ls="--")


def _raster_title(sample: dict) -> str:
    parts = ["what sample 0 sent per step (a dot: a spike or message)"]
    if sample.get("true") or sample.get("predicted"):
        parts.append(f"true: {sample.get('true', '?')}, predicted: "
                     f"{sample.get('predicted', '?')}")
    title = "; ".join(parts)
    if sample.get("steps_per_frame"):
        title += (f"\ndotted: a new input frame every {sample['steps_per_frame']} steps; "
                  "dashed: readout starts (after the pipeline latency)")
    return title


def plot_raster(raster: dict[str, np.ndarray], path: Path, sample: dict | None = None,
                output_v: np.ndarray | None = None, classes=None, graded=()) -> Path:
    """One panel per layer of sample 0 (see the module docstring)."""
    sample = sample or {}
    fig, axes = plt.subplots(len(raster), 1, figsize=(8.5, 1.8 + 1.4 * len(raster)),
                             sharex=True, squeeze=False)
    steps = next(iter(raster.values())).shape[0]
    last = list(raster)[-1]
    for ax, (name, spikes) in zip(axes[:, 0], raster.items(), strict=True):
        if name == last and output_v is not None and not spikes.any():
            for c in range(output_v.shape[1]):
                label = classes[c] if classes is not None and c < len(classes) else str(c)
                ax.plot(range(steps), output_v[:, c], lw=1, label=label)
            ax.set_ylabel(f"{name}\nvoltage v", fontsize=8)
            ax.set_title("output layer: never spikes; read as its mean voltage over the "
                         "readout steps (after the dashed line)", fontsize=8, loc="left")
            ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
        else:
            n = spikes.shape[1]
            keep = np.linspace(0, n - 1, min(n, MAX_RASTER_NEURONS)).astype(int)
            t, i = np.nonzero(spikes[:, keep])
            ax.scatter(t, keep[i], s=2, marker="|", color="black")
            ax.set_ylim(-0.5, n - 0.5)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
            ax.set_ylabel(f"{name}\nneuron", fontsize=8)
            if name in graded:
                ax.set_title("graded messages: a dot is a non-zero payload (sigma-delta)",
                             fontsize=8, loc="left")
        ax.set_xlim(-0.5, steps - 0.5)
        _frame_marks(ax, sample, steps)
    axes[-1, 0].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[-1, 0].set_xlabel("time step")
    fig.suptitle(_raster_title(sample), fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def needs_log_axis(series) -> bool:
    """Whether the series' peaks differ by more than :data:`LOG_RANGE` (then a linear axis
    flattens the small layers to zero).

    >>> needs_log_axis([[0, 16000, 8000], [0, 40, 60]]), needs_log_axis([[1, 2], [3, 5]])
    (True, False)
    """
    peaks = [max(s) for s in series if max(s) > 0]
    return bool(peaks) and max(peaks) / min(peaks) > LOG_RANGE


def plot_steps(rep: dict, path: Path) -> Path:
    series = {n: np.asarray(s, float) for n, s in
              rep["counts"]["per_step_mean"]["synops"].items() if any(s)}
    fig, ax = plt.subplots(figsize=(9, 3.6))
    for name, s in series.items():
        ax.plot(range(len(s)), s, marker=".", label=name)
    if needs_log_axis(list(series.values())):
        ax.set_yscale("symlog", linthresh=1)
        scale = " (log scale: the layers differ by orders of magnitude)"
    else:
        scale = ""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(-0.5, rep["steps"] - 0.5)
    ax.set_xlabel("time step")
    ax.set_ylabel("synaptic ops per step\n(mean over samples)")
    ax.set_title("synaptic ops per step, by receiving layer" + scale, fontsize=10)
    if series:
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), title="layer",
                  title_fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def plot_confusion(confusion, classes, path: Path, title: str = "") -> Path:
    """Confusion matrix, rows = true class: counts and the share of the row."""
    conf = np.asarray(confusion, dtype=float)
    rows = conf.sum(1, keepdims=True)
    share = np.divide(conf, rows, out=np.zeros_like(conf), where=rows > 0)
    fig, ax = plt.subplots(figsize=(6.4, 5.4))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(conf.shape[0]):
        for j in range(conf.shape[1]):
            ax.text(j, i, f"{int(conf[i, j])}\n{100 * share[i, j]:.0f} %", ha="center",
                    va="center", fontsize=7, color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=35, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or "confusion (count, share of the true class)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def write_plots(rep: dict, raster: dict[str, np.ndarray], out_dir: Path,
                output_v: np.ndarray | None = None, classes=None) -> list[Path]:
    """All four PNGs into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    graded = {la_name for la_name, v in rep["counts"]["per_inference"]["messages_graded"].items()
              if v > 0}
    return [plot_activity(rep, out_dir / "activity.png"),
            plot_energy(rep, out_dir / "energy.png"),
            plot_raster(raster, out_dir / "raster.png", rep.get("raster_sample"), output_v,
                        classes, graded),
            plot_steps(rep, out_dir / "steps.png")]
