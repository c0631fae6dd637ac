"""What each NIR exporter means by the numbers it writes: one preset per framework.

NIR stores no time step, and the exporters write their neurons under conventions of their
own; read with NIR's equations at the wrong ``dt`` a graph converts without a word into the
wrong network. A preset says, for graphs written by one framework's exporter:

* ``dt``: the time step its taus are written for (the exporter's own constant, or the
  framework's default step; ``--dt`` replaces it);
* ``decay``: how a time constant becomes the fraction of state lost per step: ``euler``
  (NIR's forward Euler, ``dt / tau``) or ``exp`` (the framework's exact ``1 - exp(-dt /
  tau)``);
* ``gain``: the input gain of each neuron kind, folded into the weights: NIR's own
  (``r dt / tau``, ``r dt`` for IF, ``r dt / tau_mem * w_in dt / tau_syn`` for CubaLIF)
  or the framework's reading of the ``r`` and ``w_in`` it writes;
* ``reset`` / ``spikes``: what its neurons do by default on a spike, which NIR cannot say
  (``subtract`` or ``zero``; ``multi`` or ``single`` spikes per step): Loihi resets to zero
  and sends one spike, so a preset whose default is ``subtract`` or ``multi`` is refused
  unless the user states otherwise (``--reset zero``, ``--spikes single``) or accepts
  ``--approximate``.

Checked against (exporter source read line by line; ``checked`` of each preset):

============ ============================================================================
``snntorch`` snnTorch 1.0.0 ``snntorch/export_nir.py``: ``Leaky`` -> LIF with ``tau =
             dt / (1 - beta)``, ``r = tau / dt``; ``Synaptic`` -> CubaLIF with ``tau_syn =
             dt / (1 - alpha)``, ``w_in = tau_syn / dt``; ``dt = 1e-4`` hard-coded. NIR's
             Euler equations at that dt give snnTorch's ``U' = beta U + I`` exactly.
             ``reset_mechanism`` (default ``subtract``) is not exported.
``norse``    norse 1.1.0 ``norse/torch/utils/export_nir.py``: taus written as ``dt /
             tau_inv`` (``dt * tau``: divided by dt here); CubaLIF ``w_in`` left at 1
             although norse's current jumps by the input (``i += x``, NIR's ``w_in dt /
             tau_syn`` is undone); IF ``r = 1`` although norse's IAF adds the input as is
             (``v += x``); resets to ``v_reset`` (0), one spike. ``dt = 1e-3`` (to_nir's
             default).
``sinabs``   sinabs 3.1.3 ``sinabs/nir.py`` and ``layers/{lif,iaf,exp_leak}.py`` (it pins
             nir 1.0.4): discrete time, taus in steps (``dt = 1``), ``alpha = exp(-1 /
             tau)``; ``LIF`` normalises its input by ``1 - alpha`` (``norm_input=True``),
             ``ExpLeak`` (LI) does not, ``IAF`` adds the input; defaults ``MultiSpike``
             and ``MembraneSubtract``, neither exported (nor LIF's ``tau_syn``).
``rockpool`` rockpool 3.1.0 ``rockpool/nn/modules/torch/nir.py``: ``LIFTorch`` -> CubaLIF
             and ``LIFNeuronTorch`` -> LIF with ``r = tau_mem exp(-dt / tau_mem) / dt``,
             ``w_in`` left at 1; ``LIFTorch`` runs ``i = beta (i + x)``, ``v = alpha v +
             i`` (input gain ``beta = exp(-dt / tau_syn)``), ``LIFNeuronTorch`` ``v = alpha
             v + x`` (gain 1), ``ExpSynTorch`` (LI) ``i = beta (i + x)``; ``dt`` is read
             back from ``r`` (the exporter's mark); subtract reset and up to
             ``max_spikes_per_dt`` (2**16) spikes per step, always. Its exporter drops
             ``bias`` and ``w_rec``: neither can be seen in the graph.
``nir``      NIR's own equations (forward Euler) at ``--dt``; reset to ``v_reset``, one
             spike per step.
============ ============================================================================

>>> p = PRESETS["snntorch"]
>>> p.dt, round(4096 * p.decay_fraction(p.dt / (1 - 0.95)))
(0.0001, 205)
>>> round(infer_rockpool_dt([(0.02, 0.02 * math.exp(-0.05) / 1e-3)]), 9)
0.001
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

SPIKING = ("LIF", "IF", "CubaLIF")
SOURCES = ("snntorch", "sinabs", "norse", "rockpool", "nir")


def _nir_gain(kind: str, p: dict, dt: float) -> float:
    """NIR's input gain under forward Euler: what reaches v per unit of synaptic input."""
    if kind == "IF":
        return p["r"] * dt
    if kind in ("CubaLIF", "CubaLI"):
        return p["r"] * dt / p["tau_mem"] * p["w_in"] * dt / p["tau_syn"]
    return p["r"] * dt / p["tau"]


def _norse_gain(kind: str, p: dict, dt: float) -> float:
    if kind == "IF":
        return p["r"]  # norse's IAF: v += x, no dt
    if kind in ("CubaLIF", "CubaLI"):
        return p["r"] * dt / p["tau_mem"] * p["w_in"]  # i += w_in x, then dv = dt/tau_mem i
    return _nir_gain(kind, p, dt)


def _sinabs_gain(kind: str, p: dict, dt: float) -> float:
    if kind == "LIF":  # norm_input=True: (1 - alpha) x
        return p["r"] * (1 - math.exp(-dt / p["tau"]))
    return p["r"] if kind in ("LI", "IF") else _nir_gain(kind, p, dt)


def _rockpool_gain(kind: str, p: dict, dt: float) -> float:
    """``r`` relative to the ``r`` rockpool writes (``tau exp(-dt / tau) / dt``) scales its
    own gain: ``beta w_in`` for LIFTorch (``i = beta (i + x)``), 1 for LIFNeuronTorch."""
    if kind in ("CubaLIF", "CubaLI"):
        r_own = p["tau_mem"] * math.exp(-dt / p["tau_mem"]) / dt
        return p["w_in"] * math.exp(-dt / p["tau_syn"]) * p["r"] / r_own
    if kind == "LIF":
        return p["r"] * dt / (p["tau"] * math.exp(-dt / p["tau"]))
    return _nir_gain(kind, p, dt)  # ExpSynTorch's r already makes r dt / tau = beta


@dataclass(frozen=True)
class ExporterPreset:
    """One exporter's conventions (see the module docstring)."""

    name: str
    checked: str
    dt: float | None
    decay: str = "euler"
    gain: Callable[[str, dict, float], float] = _nir_gain
    reset: str = "zero"
    spikes: str = "single"
    taus_times_dt: bool = False  # norse 1.1 writes dt * tau
    reset_why: str = ""  # what the framework does by default, and the user's way out
    spikes_why: str = ""
    spikes_kinds: tuple[str, ...] = field(default=SPIKING)

    def __post_init__(self) -> None:
        if self.decay not in ("euler", "exp") or self.reset not in ("zero", "subtract") or \
                self.spikes not in ("single", "multi"):
            raise ValueError(f"preset {self.name}: bad decay/reset/spikes")

    def decay_fraction(self, tau: float, dt: float | None = None) -> float:
        """Fraction of the state lost per step for time constant ``tau`` (in seconds)."""
        x = (self.dt if dt is None else dt) / tau if tau > 0 else math.inf
        return x if self.decay == "euler" else -math.expm1(-x)


PRESETS: dict[str, ExporterPreset] = {p.name: p for p in (
    ExporterPreset(
        "snntorch", "snnTorch 1.0.0 snntorch/export_nir.py", 1e-4,
        reset="subtract",
        reset_why="snnTorch neurons reset by subtraction by default (reset_mechanism="
                  "'subtract', which its exporter does not record) and Loihi resets to zero: "
                  "pass --reset zero if the network was trained with reset_mechanism='zero'"),
    ExporterPreset(
        "norse", "norse 1.1.0 norse/torch/utils/export_nir.py", 1e-3, gain=_norse_gain,
        taus_times_dt=True),
    ExporterPreset(
        "sinabs", "sinabs 3.1.3 sinabs/nir.py", 1.0, decay="exp",
        gain=_sinabs_gain, reset="subtract", spikes="multi",
        reset_why="sinabs neurons reset by subtraction by default (reset_fn=MembraneSubtract"
                  "(), which its exporter does not record) and Loihi resets to zero: pass "
                  "--reset zero if the network was trained with reset_fn=MembraneReset()",
        spikes_why="sinabs's LIF and IAF send several spikes per step by default (spike_fn="
                   "MultiSpike, not recorded by its exporter) and Loihi sends one: pass "
                   "--spikes single if the network was trained with spike_fn=SingleSpike"),
    ExporterPreset(
        "rockpool", "rockpool 3.1.0 rockpool/nn/modules/torch/nir.py", None,
        decay="exp", gain=_rockpool_gain, reset="subtract", spikes="multi",
        reset_why="rockpool's LIFTorch resets by subtraction and Loihi resets to zero: pass "
                  "--reset zero only if the network's neurons were made to reset to zero",
        spikes_why="rockpool's LIFTorch sends up to max_spikes_per_dt spikes per step and "
                   "Loihi sends one: pass --spikes single if it was trained with "
                   "max_spikes_per_dt=1"),
    ExporterPreset("nir", "NIR 1.0 node equations (forward Euler)", None),
)}


def infer_rockpool_dt(pairs: list[tuple[float, float]]) -> float | None:
    """The ``dt`` rockpool's exporter wrote into ``r = tau exp(-dt / tau) / dt``, from
    ``(tau, r)`` pairs: ``x = dt / tau`` solves ``ln x + x + ln r = 0`` (increasing in x;
    bisection on ln x). None without pairs; ValueError when the pairs disagree."""
    found = []
    for tau, r in pairs:
        if not (tau > 0 and r > 0 and math.isfinite(tau * r)):
            continue
        lo, hi = -60.0, 10.0  # ln x
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if mid + math.exp(mid) + math.log(r) < 0 else (lo, mid)
        found.append(tau * math.exp(lo))
    if not found:
        return None
    if max(found) > min(found) * (1 + 1e-3):
        raise ValueError(f"rockpool's r encodes different time steps ({min(found):.3g} to "
                         f"{max(found):.3g} s)")
    return sum(found) / len(found)
