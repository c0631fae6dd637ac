"""scripts/bench_kd.py's statistics: paired intervals and class-pair accuracy."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "bench_kd", Path(__file__).resolve().parents[1] / "scripts" / "bench_kd.py")
bench_kd = importlib.util.module_from_spec(SPEC)
sys.modules["bench_kd"] = bench_kd  # dataclasses look their module up there
SPEC.loader.exec_module(bench_kd)


def test_paired_interval_uses_the_t_quantile() -> None:
    iv = bench_kd.interval([1.0, 3.0, 2.0, 4.0, 0.0])
    assert iv["mean"] == 2.0 and iv["ahead"] == 4 and iv["n"] == 5
    half = 2.776 * iv["std"] / 5 ** 0.5  # t(0.975, 4 dof)
    assert iv["low"] == pytest.approx(2.0 - half) and iv["high"] == pytest.approx(2.0 + half)


def test_pair_accuracy_by_hand() -> None:
    classes = ["happiness", "sadness", "anger", "disgust", "surprise", "fear", "neutral"]
    conf = [[0] * 7 for _ in range(7)]
    conf[0][0] = 3  # happiness right
    conf[0][3] = 1  # happiness as disgust: pair right, member wrong
    conf[1][4] = 2  # sadness as surprise: pair wrong
    conf[6][6] = 4  # neutral right (not a pair member)
    acc = bench_kd.pair_accuracy(conf, classes)
    assert acc["pair"] == pytest.approx(8 / 10)
    assert acc["within_pair"] == pytest.approx(3 / 4)


def test_method_parsing() -> None:
    m = bench_kd.parse_method("old=0.5:hckd+tckd")
    assert (m.name, m.alpha, m.kd_terms) == ("old", 0.5, ("hckd", "tckd"))
    assert bench_kd.parse_method("a0=0").kd_terms == ()
