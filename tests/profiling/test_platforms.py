"""Edge platforms: MLPerf results scaled by MACs, the spread across reference models, idle
power at an input rate, the break-even point, and the refusals."""

from __future__ import annotations

import pytest
from mskd.hw_profiles import load_profile
from mskd.profiling.cli import load_platforms
from mskd.profiling.platforms import EDGE_PROFILES, break_even, on_platform

from mskd.errors import ConfigError

pytestmark = pytest.mark.unit


def test_scaling_by_macs_per_reference_model():
    p = load_profile("stm32u385")
    est = on_platform(5e6, p)
    rows = {r["benchmark"]: r for r in est["benchmarks"]}
    # kws: 245.3412 uJ and 48.302 ms for 2.656768 M MACs
    assert rows["kws"]["energy_uj"] == pytest.approx(245.3412 * 5 / 2.656768)
    assert rows["kws"]["latency_ms"] == pytest.approx(48.302 * 5 / 2.656768)
    per_mac = sorted(r["energy_uj"] for r in rows.values())
    assert est["energy_uj"]["min"] == per_mac[0] and est["energy_uj"]["max"] == per_mac[-1]
    assert est["energy_uj"]["median"] == pytest.approx((per_mac[1] + per_mac[2]) / 2)
    assert est["energy_at_rate_uj"] is None  # MLPerf Tiny: no idle figure


def test_idle_power_fills_the_time_between_inferences():
    p = load_profile("jetson-agx-orin")
    est = on_platform(3.8e9, p, rate_per_s=10.0)  # ResNet-50 itself, ten frames a second
    assert est["energy_uj"]["median"] == pytest.approx(19700.0)
    wait_s = 0.1 - 1.636e-3
    assert est["energy_at_rate_uj"] == pytest.approx(19700.0 + 5.8 * wait_s * 1e6)


def test_break_even_keeps_neuron_updates_and_scales_synops():
    kinds = {"synop": 0.0, "synop_graded": 60.0, "neuron_update_active": 30.0, "spike": 10.0}
    assert break_even(kinds, 70.0) == pytest.approx(0.5)  # 40 + 0.5 x 60 = 70
    assert break_even(kinds, 200.0) > 1  # already below
    assert break_even(kinds, 39.0) is None  # neuron updates and messages alone cost 40


def test_every_shipped_platform_is_sourced_and_loads():
    for name in EDGE_PROFILES:
        p = load_profile(name)
        assert p.kind == "edge" and p.macs
        for sec in ("energy", "time", "macs"):
            for key, q in getattr(p, sec).items():
                assert q.source.strip(), f"{name}: {sec}.{key}"
    assert [p.name for p in load_platforms("gap9, ndp9120")] == ["gap9", "ndp9120"]
    assert load_platforms("none") == []


def test_a_non_edge_platform_is_refused():
    with pytest.raises(ConfigError, match="--platforms loihi2: kind 'neuromorphic'"):
        load_platforms("gap9,loihi2")
