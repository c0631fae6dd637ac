"""PNG plots of a profile report, each written atomically.

* ``activity.png``: spikes and synops per inference, per layer (log scale).
* ``energy.png``: energy per inference by layer, stacked by operation kind, and the total
  by operation kind.
* ``raster.png``: spike raster of sample 0, one panel per layer.
* ``steps.png``: synops per time step, per layer (mean over samples).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mskd.fsio import atomic_path  # noqa: E402

PJ_PER_UJ = 1e6
MAX_RASTER_NEURONS = 2000  # plot at most this many neurons per layer (evenly spaced)


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_activity(rep: dict, path: Path) -> Path:
    per = rep["counts"]["per_inference"]
    names = list(per["spikes"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, key, label in ((axes[0], "spikes", "spikes"), (axes[1], "synops", "synaptic ops")):
        values = [max(per[key][n], 0) for n in names]
        ax.bar(names, values, color="tab:blue" if key == "spikes" else "tab:orange")
        ax.set_yscale("symlog", linthresh=1)
        ax.set_ylabel(f"{label} per inference")
        ax.set_xlabel("layer")
        ax.set_title(f"{label} per layer ({rep['samples']} samples, {rep['steps']} steps)")
        ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    return _save(fig, path)


def plot_energy(rep: dict, path: Path) -> Path:
    per_layer = rep["energy"]["per_layer"]
    names, kinds = list(per_layer), list(rep["energy"]["by_kind"])
    fig, (ax_l, ax_k) = plt.subplots(1, 2, figsize=(11, 4), width_ratios=[3, 2])
    colors = dict(zip(kinds, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
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
    totals = [rep["energy"]["by_kind"][k] / PJ_PER_UJ for k in kinds]
    ax_k.barh(kinds, totals, color=[colors[k] for k in kinds])
    ax_k.set_xlabel("energy per inference (µJ)")
    ax_k.set_title("energy by operation")
    if rep["assumptions"]:
        fig.text(0.01, -0.02, "Per-op figures ASSUMED (Loihi 1 values), see report",
                 fontsize=8, color="tab:red")
    fig.tight_layout()
    return _save(fig, path)


def plot_raster(raster: dict[str, np.ndarray], path: Path, title: str = "") -> Path:
    fig, axes = plt.subplots(len(raster), 1, figsize=(8, 1.6 + 1.4 * len(raster)),
                             sharex=True, squeeze=False)
    for ax, (name, spikes) in zip(axes[:, 0], raster.items(), strict=True):
        n = spikes.shape[1]
        keep = np.linspace(0, n - 1, min(n, MAX_RASTER_NEURONS)).astype(int)
        t, i = np.nonzero(spikes[:, keep])
        ax.scatter(t, keep[i], s=2, marker="|", color="black")
        ax.set_ylim(-0.5, n - 0.5)
        ax.set_xlim(-0.5, spikes.shape[0] - 0.5)
        ax.set_ylabel(f"{name}\nneuron", fontsize=8)
    axes[-1, 0].set_xlabel("time step")
    axes[0, 0].set_title(title or "spike raster, sample 0")
    fig.tight_layout()
    return _save(fig, path)


def plot_steps(rep: dict, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for name, series in rep["counts"]["per_step_mean"]["synops"].items():
        if any(series):
            ax.plot(range(len(series)), series, marker=".", label=name)
    ax.set_xlabel("time step")
    ax.set_ylabel("synaptic ops per step (mean over samples)")
    ax.set_title("synaptic ops per step, by receiving layer")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def write_plots(rep: dict, raster: dict[str, np.ndarray], out_dir: Path) -> list[Path]:
    """All four PNGs into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    return [plot_activity(rep, out_dir / "activity.png"),
            plot_energy(rep, out_dir / "energy.png"),
            plot_raster(raster, out_dir / "raster.png"),
            plot_steps(rep, out_dir / "steps.png")]
