"""The neuron groups of a netx layer, as lava-dl 0.6's netx reads them.

netx's ``Network.get_neuron_params`` knows two kinds that run in Lava's fixed-point
models: ``CUBA`` (and its alias ``LOIHI``) becomes a CUBA-LIF process
(:mod:`mskd.loihi.lif`); ``SDNN`` becomes a sigma-delta process (:mod:`mskd.loihi.sdn`): a
``Delta`` for an input layer, a ``Sigma`` when the group has a ``sigma_output`` field, a
ReLU ``SigmaDelta`` otherwise.

Fields netx reads and what it does with them (verified against Lava by the tests):

* ``iDecay``, ``vDecay``, ``vThMant``: CUBA, mapped as :class:`mskd.loihi.lif.LifParams`.
* ``vThMant``: SDNN, scaled by ``2**(spike_exp + state_exp)`` = 4096 in Lava.
* ``gradedSpike``: not read. Lava 0.10's LIF sends 0/1 whatever it says (kept for round
  trips; :attr:`LifNeuron.graded`).
* ``refDelay``, ``activation``: not read; every SigmaDelta netx builds is ReLU, so a file
  asking for another activation is refused rather than run as ReLU.
* ``messageBits``: netx 0.6 reads it as an HDF5 group instead of a number and the network
  then fails in Lava (``'>' not supported between 'NetDict' and 'int'``), so a file with
  it is refused; an SDNN layer's messages are graded (netx's default 16 bits), a CUBA
  layer's binary.

A dense layer without a ``neuron`` group gets netx's default neuron
(:data:`DEFAULT_NEURON`): CUBA with ``iDecay = 0`` (the current never decays),
``vDecay = 4096`` (the voltage keeps nothing: ``v = u + bias`` every step) and
``vThMant = 1 << 18 - 1``, which Python reads as ``1 << 17`` = 131072: ``vth << 6`` =
2**23 is above the largest voltage Lava keeps (2**23 - 1), so it never spikes. A
non-spiking integrator whose ``u`` or ``v`` is read out.

>>> LifNeuron(i_decay=1024, v_decay=128, vth_mant=80).params
LifParams(du=1023, dv=128, vth=80, bias_exp=6)
>>> DEFAULT_NEURON.params.vth_eff > 2**23 - 1
True
>>> SdnNeuron(vth_mant=3).params("input").kind
'delta'
"""

from __future__ import annotations

from dataclasses import dataclass

from mskd.loihi.lif import DECAY_UNITY, LifParams
from mskd.loihi.sdn import SPIKE_EXP, SdnParams

LIF_VTH_MAX = 1 << 17  # one past the 17-bit register: Lava runs it (the default neuron does)


def _check_range(name: str, value: int, lo: int, hi: int) -> None:
    if not lo <= value <= hi:
        raise ValueError(f"{name}={value} outside {lo}..{hi}")


@dataclass(frozen=True)
class LifNeuron:
    """netx CUBA neuron fields: ``iDecay``, ``vDecay``, ``vThMant``, ``gradedSpike``.

    ``default`` marks netx's default neuron of a dense layer without a ``neuron`` group
    (written back without one).
    """

    i_decay: int
    v_decay: int
    vth_mant: int
    graded: bool = False
    default: bool = False

    def __post_init__(self) -> None:
        _check_range("iDecay", self.i_decay, 0, DECAY_UNITY)
        _check_range("vDecay", self.v_decay, 0, DECAY_UNITY)  # 4096: v keeps nothing
        _check_range("vThMant", self.vth_mant, 0, LIF_VTH_MAX)

    kind = "CUBA"
    graded_out = False  # Lava's LIF sends 0/1 (see the module docstring)

    @property
    def params(self) -> LifParams:
        """The Lava LIF parameters netx derives (``du = iDecay - 1``, ``bias_exp = 6``)."""
        return LifParams.from_netx(self.i_decay, self.v_decay, self.vth_mant)

    def model(self, role: str) -> str:
        return "lif"


DEFAULT_NEURON = LifNeuron(i_decay=0, v_decay=DECAY_UNITY, vth_mant=1 << 17, default=True)


@dataclass(frozen=True)
class SdnNeuron:
    """netx SDNN neuron fields: ``vThMant`` and ``sigma_output``.

    The process it becomes depends on the layer's role (:meth:`model`): ``delta`` for an
    input layer, ``sigma`` with ``sigma_output``, ``sigma_delta`` otherwise.
    """

    vth_mant: int = 0
    sigma_output: bool = False

    kind = "SDNN"
    graded_out = True

    def __post_init__(self) -> None:
        if self.vth_mant < 0:
            raise ValueError(f"vThMant={self.vth_mant} must be >= 0")

    def model(self, role: str) -> str:
        """``delta``, ``sigma`` or ``sigma_delta`` for a layer of ``role`` (input or not)."""
        if role == "input":
            return "delta"
        return "sigma" if self.sigma_output else "sigma_delta"

    def params(self, role: str, spike_exp: int = SPIKE_EXP) -> SdnParams:
        """The Lava process parameters netx builds (ValueError when Lava cannot hold them)."""
        kind = self.model(role)
        return SdnParams(kind, 0 if kind == "sigma" else self.vth_mant, spike_exp=spike_exp)


Neuron = LifNeuron | SdnNeuron
