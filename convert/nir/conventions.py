"""The time base and neuron conventions a NIR graph is read under, and what was approximated.

:func:`resolve` picks them, in this order:

1. ``--from SOURCE`` (a preset of :mod:`mskd.convert.nir.presets`), its ``dt`` replaced by
   ``--dt`` when given; for rockpool the ``dt`` its exporter encoded in ``r`` (``--dt``
   must agree);
2. a mark the writer left: an mskd export (graph metadata ``mskd_dt``, or
   ``mskd_encoding`` from before ``mskd_dt`` was written: those used 1e-3 s), or graph
   metadata ``dt`` (seconds): NIR's own equations at that step;
3. ``--dt`` alone: NIR's own equations at that step;
4. otherwise the graph is refused: NIR stores no time step, and a guess converts into a
   network that runs at the wrong speed without a word.

>>> import nir, numpy as np
>>> g = nir.NIRGraph(nodes={}, edges=[], type_check=False)
>>> resolve(g, "snntorch", None).dt
0.0001
>>> resolve(g, None, None)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
mskd.errors.NetError: NIR stores no time step; pass --from snntorch|...|nir or --dt SECONDS
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from mskd.convert.nir.presets import PRESETS, SOURCES, ExporterPreset, infer_rockpool_dt

from mskd.errors import NetError

MSKD_EXPORT_DT = 1e-3  # mskd convert --nir wrote this step before it stored mskd_dt


@dataclass(frozen=True)
class Approximation:
    """A semantic Loihi cannot keep, and what the conversion did instead."""

    node: str
    semantic: str
    how: str

    def to_json(self) -> dict:
        return {"node": self.node, "semantic": self.semantic, "how": self.how}


@dataclass(frozen=True)
class Conventions:
    """How to read the graph: preset, step, the source's reset and spike rule, and whether
    what Loihi cannot keep may be approximated (each approximation is recorded)."""

    preset: ExporterPreset
    dt: float
    origin: str  # how the time base was chosen, for the report
    reset: str = "zero"
    spikes: str = "single"
    approximate: bool = False
    notes: list[Approximation] = field(default_factory=list, compare=False)

    def __post_init__(self) -> None:
        if not (self.dt > 0 and math.isfinite(self.dt)):
            raise NetError(f"NIR import: dt={self.dt} must be a positive number of seconds")
        if self.reset not in ("zero", "subtract") or self.spikes not in ("single", "multi"):
            raise ValueError(f"reset={self.reset!r}, spikes={self.spikes!r}")

    def to_json(self) -> dict:
        return {"from": self.preset.name, "checked_against": self.preset.checked,
                "dt": self.dt, "chosen_by": self.origin, "reset": self.reset,
                "spikes": self.spikes, "approximate": self.approximate}

    def allow(self, node: str, semantic: str, refusal: str, how: str) -> None:
        """Refuse (NetError naming ``node``) unless ``--approximate``; then record it."""
        if not self.approximate:
            raise NetError(f"NIR node '{node}': {refusal}, or --approximate to convert it "
                           f"with {how}")
        self.notes.append(Approximation(node, semantic, how))


def _metadata(graph) -> dict:
    return getattr(graph, "metadata", None) or {}


def _scalar_meta(value, what: str) -> float:
    try:
        x = float(np.asarray(value, dtype=np.float64).reshape(-1)[0])
    except (TypeError, ValueError, IndexError):
        raise NetError(f"NIR graph: metadata '{what}' is not a number ({value!r})") from None
    if not (x > 0 and math.isfinite(x)):
        raise NetError(f"NIR graph: metadata '{what}'={x:g} is not a time step in seconds")
    return x


def _rockpool_dt(graph, dt: float | None) -> tuple[float, str]:
    pairs = [(float(np.asarray(n.tau_mem).reshape(-1)[0]), float(np.asarray(n.r).reshape(-1)[0]))
             for n in graph.nodes.values() if type(n).__name__ == "CubaLIF"]
    pairs += [(float(np.asarray(n.tau).reshape(-1)[0]), float(np.asarray(n.r).reshape(-1)[0]))
              for n in graph.nodes.values() if type(n).__name__ in ("LIF", "LI")]
    try:
        found = infer_rockpool_dt(pairs)
    except ValueError as exc:
        raise NetError(f"NIR graph: {exc}: not one rockpool export; pass --from nir --dt "
                       "SECONDS") from None
    if found is None:
        if dt is None:
            raise NetError("NIR graph: no LIF/CubaLIF/LI node to read rockpool's time step from; "
                           "pass --dt SECONDS")
        return dt, "--dt"
    if dt is not None and abs(dt - found) > 1e-3 * found:
        raise NetError(f"NIR graph: --dt {dt:g} disagrees with the step rockpool's exporter "
                       f"encoded in r ({found:.6g} s); drop --dt or pass --from nir")
    return found, "rockpool's r = tau_mem exp(-dt / tau_mem) / dt"


def _neurons(graph) -> list:
    return [n for n in graph.nodes.values()
            if type(n).__name__ in ("LIF", "CubaLIF", "LI", "CubaLI", "IF")]


def _first(node, field: str) -> float:
    return float(np.asarray(getattr(node, field)).reshape(-1)[0])


def exporter_hint(graph) -> str | None:
    """A hint (never a choice) naming the exporter whose mark the neurons carry: snnTorch
    writes ``r = tau / 1e-4``; norse 1.1 ``tau = dt / tau_inv`` (below 1e-4 s) with ``r =
    1``; sinabs taus in steps (above 1) with ``r = 1``."""
    nodes = [n for n in _neurons(graph) if type(n).__name__ != "IF"]
    if not nodes:
        return None
    taus = [_first(n, "tau" if hasattr(n, "tau") else "tau_mem") for n in nodes]
    rs = [_first(n, "r") for n in nodes]
    if all(tau > 0 and abs(r * 1e-4 / tau - 1) < 1e-4 for tau, r in zip(taus, rs, strict=True)):
        return "its r = tau / 1e-4 is the mark of snnTorch's exporter: --from snntorch"
    if all(r == 1 for r in rs) and all(0 < tau < 1e-4 for tau in taus):
        return "taus below 0.1 ms with r = 1 are the mark of norse 1.1's exporter: --from norse"
    if all(r == 1 for r in rs) and all(tau > 1 for tau in taus):
        return "taus above 1 with r = 1 look like sinabs's time steps: --from sinabs"
    return None


def resolve(graph, source: str | None, dt: float | None, reset: str | None = None,
            spikes: str | None = None, approximate: bool = False) -> Conventions:
    """The :class:`Conventions` for ``graph`` (see the module docstring)."""
    if source is not None and source not in PRESETS:
        raise NetError(f"--from {source}: unknown exporter (expected one of "
                       f"{', '.join(SOURCES)})")
    meta = _metadata(graph)
    if source is not None:
        preset = PRESETS[source]
        if source == "rockpool":
            step, origin = _rockpool_dt(graph, dt)
        elif dt is not None:
            step, origin = dt, "--dt"
        elif preset.dt is not None:
            step, origin = preset.dt, f"--from {source} (the exporter's step)"
        elif "mskd_dt" in meta or "dt" in meta:
            key = "mskd_dt" if "mskd_dt" in meta else "dt"
            step, origin = _scalar_meta(meta[key], key), f"graph metadata '{key}'"
        else:
            raise NetError("--from nir: NIR stores no time step; pass --dt SECONDS")
    else:
        preset = PRESETS["nir"]
        if dt is not None:
            step, origin = dt, "--dt"
        elif "mskd_dt" in meta:
            step, origin = _scalar_meta(meta["mskd_dt"], "mskd_dt"), "mskd export (mskd_dt)"
        elif "mskd_encoding" in meta:
            step, origin = MSKD_EXPORT_DT, "mskd export (written at 1e-3 s)"
        elif "dt" in meta:
            step, origin = _scalar_meta(meta["dt"], "dt"), "graph metadata 'dt'"
        else:
            hint = exporter_hint(graph)
            raise NetError("NIR stores no time step; pass --from "
                           f"{'|'.join(SOURCES)} or --dt SECONDS"
                           + (f" ({hint})" if hint else ""))
    return Conventions(preset, step, origin, reset or preset.reset, spikes or preset.spikes,
                       approximate)
