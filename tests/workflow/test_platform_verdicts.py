"""The demo summary's verdict per platform, from a profile report's platform block."""

from __future__ import annotations

import pytest

from mskd.workflow.summary_page import platform_verdicts

pytestmark = pytest.mark.unit


def _rep():
    spread = lambda m: {"median": m, "min": m / 2, "max": m * 2}  # noqa: E731
    return {"energy": {"total": 64e6},  # 64 uJ dynamic
            "platforms": {"network_macs": 6.5e6, "rate_per_s": None, "platforms": [
                {"platform": "gap9", "energy_uj": spread(40.0), "break_even_synops": 0.4},
                {"platform": "stm32u385", "energy_uj": spread(550.0),
                 "break_even_synops": 12.0}],
                "bound_45nm": {"total_pj": 3.2e6, "break_even_synops": None}}}


def test_each_platform_gets_a_verdict_with_the_report_numbers():
    text = "\n".join(platform_verdicts({"loihi2": _rep()}))
    assert "6,500,000 MACs" in text and "64 uJ dynamic on loihi2" in text
    assert "| gap9 | 40 (20 .. 80) | the student costs 1.6x more; it matches at 0.4x " \
           "today's synaptic ops |" in text
    assert "| stm32u385 | 550 (275 .. 1.1e+03) | the student costs 8.59x less |" in text
    assert "45 nm bound (a bound, not a chip) | 3.2 (3.2 .. 3.2) | the student costs 20x " \
           "more and cannot match it" in text


def test_no_platform_block_no_lines():
    assert platform_verdicts({"loihi1": {"energy": {"total": 1.0}}}) == []
