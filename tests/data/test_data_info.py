"""``mskd data info``: counts per split and lighting, lengths, image size; table and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import SIZE, make_tree, run_mskd

from mskd.data.info import summarize


def scan_keys(root: Path) -> list[str]:
    from mskd.data.scan import scan_dataset

    return sorted(scan_dataset(root).sequences)


def test_summary_counts(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "see", {"neutral": 7})
    summary = summarize(root)
    assert summary["sequences"] == 6 and summary["frames"] == 4 * 20 + 2 * 7
    assert summary["length"] == {"min": 7, "mean": round(94 / 6, 2), "max": 20}
    assert summary["image_size"] == [SIZE, SIZE]
    assert summary["splits"]["train"]["normal"]["happiness"] == 1
    assert summary["splits"]["test"]["low-light"]["neutral"] == 1
    assert summary["splits"]["test"]["HDR"]["anger"] == 0
    assert summary["annotated"] == 0
    key = next(iter(scan_keys(root)))
    csv = root / "annotation" / f"{key}.csv"
    csv.parent.mkdir(parents=True)
    csv.write_text("frame,valence,arousal\n0,0,0\n")
    assert summarize(root)["annotated"] == 1  # counted by file, checked when training


def test_cli_json_and_table(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "see")
    out = run_mskd("data", "info", str(root), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["sequences"] == 6
    table = run_mskd("data", "info", str(root))
    assert table.returncode == 0 and "happiness" in table.stdout and "low-light" in table.stdout
    assert "length min/mean/max 20/20.0/20" in table.stdout


def test_cli_bad_dir_is_one_line_and_non_zero(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "see")
    (root / "frame" / "boredom").mkdir()
    out = run_mskd("data", "info", str(root))
    assert out.returncode != 0 and "Traceback" not in out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "boredom" in lines[0] and lines[0].startswith("error:")
    debug = run_mskd("--debug", "data", "info", root)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_cli_synth_writes_a_dataset_info_can_read(tmp_path: Path) -> None:
    out = tmp_path / "syn"
    made = run_mskd("data", "synth", "--out", str(out), "--subjects", "2", "--size", "16",
                    "--seed", "1", "--workers", "1")
    assert made.returncode == 0, made.stderr
    info = json.loads(run_mskd("data", "info", str(out), "--json").stdout)
    assert info["sequences"] == 2 * 7 * 4 and info["image_size"] == [16, 16]
    assert 18 <= info["length"]["min"] <= info["length"]["max"] <= 40
    again = run_mskd("data", "synth", "--out", str(out), "--subjects", "2", "--size", "16")
    assert again.returncode != 0 and "already exists" in again.stderr
