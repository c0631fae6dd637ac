"""scripts/bench_kd.py's statistics: paired intervals and class-pair accuracy."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from helpers import REPO

pytestmark = pytest.mark.unit

SPEC = importlib.util.spec_from_file_location(
    "bench_kd", REPO / "scripts" / "bench_kd.py")
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


def test_bench_va_pairs_ccc_by_seed(monkeypatch) -> None:
    """scripts/bench_va.py's table: per-dimension CCC paired with alpha=0 seed by seed."""
    import types

    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    spec = importlib.util.spec_from_file_location(
        "bench_va", REPO / "scripts" / "bench_va.py")
    bench_va = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_va)

    def run(ccc_v: float, ccc_a: float) -> dict:
        dim = {"valence": {"ccc": ccc_v, "pcc": ccc_v, "rmse": 0.3},
               "arousal": {"ccc": ccc_a, "pcc": ccc_a, "rmse": 0.4}}
        return {"ccc": (ccc_v + ccc_a) / 2, **dim}

    results = {"V-sdnn-a0-s0": run(0.2, 0.3), "V-sdnn-a0-s1": run(0.3, 0.3),
               "V-sdnn-out-s0": run(0.25, 0.3), "V-sdnn-out-s1": run(0.3, 0.4)}
    args = types.SimpleNamespace(data=[("V", "x")], students=["sdnn"], seeds=[0, 1],
                                 methods=[bench_va.Method("a0", 0.0),
                                          bench_va.Method("out", 0.5, ("out",))],
                                 epochs=1, teacher_epochs=1, views=1, clip="E4-S3")
    row = bench_va.summarise(args, results)["V-sdnn"]["out"]
    assert row["minus_a0_valence_ccc"]["diff"] == pytest.approx([0.05, 0.0])
    assert row["minus_a0_arousal_ccc"]["diff"] == pytest.approx([0.0, 0.1])
    assert row["minus_a0_ccc"]["mean"] == pytest.approx(0.0375)
    text = bench_va.render(args, results, bench_va.summarise(args, results))
    assert "| out | 0.31" in text and "(2 of 2 up; +0.025, +0.050)" in text
