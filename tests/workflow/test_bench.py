"""``mskd bench`` on a tiny setting: every section measured, JSON and Markdown agree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.lava
def test_bench_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    run = subprocess.run(
        [sys.executable, "-m", "mskd", "bench", "--out", str(out), "--seeds", "0,1",
         "--subjects", "3", "--teacher-epochs", "1", "--student-epochs", "1", "--size", "24",
         "--profile-clips", "2", "--batch", "4", "--lava-samples", "1"],
        capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads((out / "bench.json").read_text())
    assert result["speed"]["bit_exact"] is True
    assert result["speed"]["sim"] > 0 and result["speed"]["lava"] > 0
    assert result["speed"]["slayer"] > 0
    assert set(result["accuracy"]) == {"teacher", "student alpha=0", "student MSKD alpha=0.5"}
    assert all(row["war"]["n"] == 2 for row in result["accuracy"].values())
    rows = list(result["accuracy"].values())
    plain, kd = rows[1]["war_per_seed"], rows[2]["war_per_seed"]
    diff = [b - a for a, b in zip(plain, kd, strict=True)]
    assert result["mskd_minus_alpha0"]["diff"] == pytest.approx(diff)
    assert result["mskd_minus_alpha0"]["ahead"] == sum(d > 0 for d in diff)
    assert set(result["energy"]) == {"loihi1", "loihi2"}
    assert result["energy"]["loihi2"]["assumed_figures"] > 0
    assert 0.0 <= result["deployment"]["deployed"]["war"] <= 1.0
    md = (out / "bench.md").read_text()
    for heading in ("Simulator speed", "Float vs deployed", "Distillation over seeds",
                    "Energy per inference"):
        assert heading in md
    assert "MSKD minus alpha=0, WAR points per seed (paired)" in md
