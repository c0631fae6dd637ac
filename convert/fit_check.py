"""Map a converted network onto Loihi cores with the profiling stage's mapper and rules.

:func:`map_profiles` runs :func:`mskd.chip.mapping.map_network` once per hardware profile
(``loihi1``, ``loihi2`` or a TOML path) with the design rules on: a network that breaks
a rule raises :class:`mskd.chip.rules.DesignRuleError` naming the rule, the layer and
the numbers, before any output file is written.

>>> import numpy as np
>>> from mskd.net.spec import DenseLayer, InputLayer, LifNeuron, NetSpec
>>> lif = LifNeuron(4096, 0, 100)
>>> spec = NetSpec((InputLayer((20,), lif), DenseLayer(20, 3, np.ones((3, 20), np.int64), lif)))
>>> m = map_profiles(spec)
>>> {k: v["total_cores"] for k, v in m.items()}
{'loihi1': 2, 'loihi2': 2}
"""

from __future__ import annotations

from collections.abc import Sequence

from mskd.net.spec import NetSpec

PROFILES = ("loihi1", "loihi2")
GRADED_PROFILES = ("loihi2",)  # Loihi 1 has no graded spikes


def default_profiles(spec: NetSpec) -> tuple[str, ...]:
    """Both Loihi generations, or Loihi 2 alone for a network that sends graded payloads."""
    graded = spec.input_kind == "graded" or any(
        getattr(la.neuron, "graded_out", False) for _, la in spec.neuron_layers())
    return GRADED_PROFILES if graded else PROFILES


def map_profiles(spec: NetSpec, profiles: Sequence[str] | None = None) -> dict[str, dict]:
    """``{profile: CoreMapping.to_json()}``; DesignRuleError on the first broken rule.
    ``profiles`` defaults to :func:`default_profiles`."""
    from mskd.hw_profiles import load_profile

    from mskd.chip.mapping import map_network

    profiles = default_profiles(spec) if profiles is None else profiles
    return {str(p): map_network(spec, load_profile(p)).to_json() for p in profiles}
