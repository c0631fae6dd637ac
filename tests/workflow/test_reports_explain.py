"""Reports say what a reader asks: versions and wall time, where the step time goes, the
units of the mapping table, and plots drawn once when profiles agree."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mskd.profiling.cli import profile_command

from mskd.net.netx_io import write_netx
from mskd.net.spec import ConvLayer, DenseLayer, FlattenLayer, InputLayer, LifNeuron, NetSpec
from mskd.workflow.summary_page import _copy_plots, latency_note

LIF = LifNeuron(1024, 128, 40)


def wide_net() -> NetSpec:
    """Layers of 2,048 neurons: 2 cores each on Loihi 1 (1,024 per core), 1 on Loihi 2."""
    rng = np.random.default_rng(0)
    return NetSpec((InputLayer((2, 32, 32), LIF),
                    ConvLayer((2, 32, 32), (8, 16, 16), rng.integers(-20, 40, (8, 2, 3, 3)),
                              (2, 2), (1, 1), (1, 1), 1, LIF),
                    FlattenLayer((8, 16, 16), (2048,)),
                    DenseLayer(2048, 3, rng.integers(-20, 40, (3, 2048)), LIF)))


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    root = tmp_path_factory.mktemp("rep")
    write_netx(wide_net(), root / "w.net")
    x = np.random.default_rng(1).integers(0, 200, (3, 6, 2, 32, 32))
    np.save(root / "x.npy", x)
    return {p: profile_command(root / "w.net", inputs=root / "x.npy", profile=p,
                               out=root / p, verbose=False) for p in ("loihi1", "loihi2")}, root


def test_report_json_carries_versions_wall_time_and_the_critical_layer(reports) -> None:
    reps, root = reports
    for name, rep in reps.items():
        p = rep["provenance"]
        assert set(p["versions"]) >= {"mskd", "torch", "lava-nc", "lava-dl", "norse", "python"}
        assert p["wall_seconds"] > 0
        crit = rep["critical_layers"]
        assert sum(c["critical_share"] for c in crit) == pytest.approx(1.0)
        top = max(crit, key=lambda c: c["slowest_core_ns_mean"])
        assert rep["latency"]["step_ns_mean"] >= top["slowest_core_ns_mean"]
        assert json.loads((root / name / "report.json").read_text())["provenance"] == p


def test_loihi2_with_fuller_cores_and_the_report_says_why(reports) -> None:
    reps, root = reports
    l1, l2 = reps["loihi1"], reps["loihi2"]
    assert l2["mapping"]["total_cores"] < l1["mapping"]["total_cores"]
    conv = {c["layer"]: c for c in l2["critical_layers"]}["1:conv"]
    assert conv["max_core_neurons"] == 2048 and conv["cores"] == 1
    note = " ".join(latency_note(reps))
    faster = l2["latency"]["inference_ns_mean"] < l1["latency"]["inference_ns_mean"]
    assert f"Loihi 2 is {'faster' if faster else 'slower'} here" in note
    assert "4,095 neurons per core" in note and "Intel's Loihi 2 time constants" in note
    md = (root / "loihi2" / "report.md").read_text()
    assert "## Where the time goes" in md and "slowest core" in md
    assert "synapses are a count" in md and "synapse memory is bits" in md
    assert "1,048,576" in (root / "loihi1" / "report.md").read_text()


def test_a_plot_identical_for_every_profile_is_copied_once(tmp_path: Path) -> None:
    prof = tmp_path / "profile"
    for name, energy in (("loihi1", b"E1"), ("loihi2", b"E2")):
        (prof / name).mkdir(parents=True)
        (prof / name / "energy.png").write_bytes(energy)
        (prof / name / "raster.png").write_bytes(b"same")
    (tmp_path / "loihi2-raster.png").write_bytes(b"stale")  # an earlier run's copy
    found = dict(_copy_plots(tmp_path, prof, ("loihi1", "loihi2")))
    assert set(found) == {"loihi1-energy.png", "loihi2-energy.png", "raster.png"}
    assert "identical" in found["raster.png"]
    assert not (tmp_path / "loihi2-raster.png").exists()


def test_raster_sample_names_true_and_predicted_classes(tmp_path: Path) -> None:
    import torch
    from mskd.convert.student_net import convert_student
    from mskd.train.lif_config import StudentConfig
    from mskd.train.student_lif import Student

    from mskd.data.synth import synthesize

    data = synthesize(tmp_path / "see", subjects=3, seed=0, size=8, min_length=14,
                      max_length=16)
    torch.manual_seed(0)
    s = Student(StudentConfig(size=8, channels=(4,), hidden=(8,), steps_per_frame=2,
                              n_frames=2))
    convert_student(s, tmp_path / "s.net", clip="E2-S1")
    rep = profile_command(tmp_path / "s.net", data=data, profile="loihi1",
                          out=tmp_path / "p", limit=2, verbose=False)
    sample = rep["raster_sample"]
    assert sample["true"] == "happiness"  # the first test sequence's emotion
    assert sample["predicted"] in s_classes() and sample["steps_per_frame"] == 2
    assert (tmp_path / "p" / "raster.png").read_bytes()[:4] == b"\x89PNG"


def s_classes() -> tuple[str, ...]:
    from mskd.data.naming import EMOTIONS

    return EMOTIONS
