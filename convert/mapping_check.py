"""Map a converted network onto Loihi cores with the profiling stage's mapper and rules.

:func:`map_profiles` runs :func:`mskd.mapping.map_network` once per hardware profile
(``loihi1``, ``loihi2`` or a TOML path) with the design rules on: a network that breaks
a rule raises :class:`mskd.mapping_rules.DesignRuleError` naming the rule, the layer and
the numbers, before any output file is written.

>>> import numpy as np
>>> from mskd.netspec import DenseLayer, InputLayer, LifNeuron, NetSpec
>>> lif = LifNeuron(4096, 0, 100)
>>> spec = NetSpec((InputLayer((20,), lif), DenseLayer(20, 3, np.ones((3, 20), np.int64), lif)))
>>> m = map_profiles(spec)
>>> {k: v["total_cores"] for k, v in m.items()}
{'loihi1': 2, 'loihi2': 2}
"""

from __future__ import annotations

from collections.abc import Sequence

from mskd.netspec import NetSpec

PROFILES = ("loihi1", "loihi2")


def map_profiles(spec: NetSpec, profiles: Sequence[str] = PROFILES) -> dict[str, dict]:
    """``{profile: CoreMapping.to_json()}``; DesignRuleError on the first broken rule."""
    from mskd.hw_profiles import load_profile

    from mskd.mapping import map_network

    return {str(p): map_network(spec, load_profile(p)).to_json() for p in profiles}
