"""`mskd profile` end to end on a small net: files written, JSON consistent, errors clear."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from helpers import REPO
from mskd.hw_profiles import load_profile
from mskd.profiling.cli import parse_macs, profile_command, register_profile
from mskd.profiling.estimate import profile_run
from typer.testing import CliRunner

from mskd.errors import ConfigError, NetError
from mskd.net.netx_io import write_netx
from mskd.net.spec import ConvLayer, DenseLayer, FlattenLayer, InputLayer, LifNeuron, NetSpec

LIF = LifNeuron(1024, 128, 40)


def small_net(seed: int = 0) -> NetSpec:
    rng = np.random.default_rng(seed)
    cw = rng.integers(-20, 40, (4, 1, 3, 3)).astype(np.int64)
    dw = rng.integers(-20, 40, (3, 4 * 4 * 4)).astype(np.int64)
    return NetSpec((InputLayer((1, 8, 8), LIF),
                    ConvLayer((1, 8, 8), (4, 4, 4), cw, (2, 2), (1, 1), (1, 1), 1, LIF),
                    FlattenLayer((4, 4, 4), (64,)), DenseLayer(64, 3, dw, LIF)))


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    write_netx(small_net(), tmp_path / "small.net")
    x = np.random.default_rng(1).integers(0, 160, (5, 6, 1, 8, 8))
    np.save(tmp_path / "x.npy", x)
    return tmp_path / "small.net", tmp_path / "x.npy"


def _app() -> typer.Typer:
    app = typer.Typer()
    register_profile(app)

    @app.callback()
    def _root() -> None:
        pass

    return app


def test_cli_writes_json_markdown_and_pngs(files, tmp_path: Path) -> None:
    net, x = files
    out = tmp_path / "out"
    result = CliRunner().invoke(_app(), ["profile", str(net), "--input", str(x), "--profile",
                                         "loihi2", "--steps-per-frame", "2", "--out", str(out),
                                         "--macs", "teacher=9e8", "--batch-size", "2",
                                         "--step-budget", "12"])
    assert result.exit_code == 0, result.output
    rep = json.loads((out / "report.json").read_text())
    assert rep["schema_version"] == 1 and rep["samples"] == 5 and rep["steps"] == 6
    for png in ("activity", "energy", "raster", "steps"):
        assert (out / f"{png}.png").read_bytes()[:4] == b"\x89PNG"
    md = (out / "report.md").read_text()
    assert "Assumed figures" in md and "energy.synop" in md  # loihi2 says what is assumed
    assert rep["energy"]["total"] == pytest.approx(sum(rep["energy"]["by_kind"].values()))
    assert rep["input_step_s"] == pytest.approx(0.033 / 2)
    per_s = rep["counts"]["per_second_of_input"]["synops"]
    per_inf = rep["counts"]["per_inference"]["synops"]
    for name, v in per_inf.items():
        assert per_s[name] == pytest.approx(v / (6 * 0.033 / 2))
    assert rep["comparison"]["ann_models"][0]["ann_energy_pj"] == pytest.approx(9e8 * 4.6)
    lat = rep["latency"]  # twice the 6 steps run: half the throughput
    assert lat["throughput_at_step_budget"] == pytest.approx(lat["throughput_per_s"] / 2)
    assert "## Core mapping" in md


def test_batched_run_equals_one_batch(files) -> None:
    """Splitting samples into batches does not change any count."""
    net, x = files
    spec, hw = small_net(), load_profile("loihi1")
    a = profile_run(spec, np.load(x), hw, batch_size=2)
    b = profile_run(spec, np.load(x), hw, batch_size=5)
    for kind in ("spikes", "synops", "active", "messages"):
        assert a.counts.per_inference(kind) == b.counts.per_inference(kind)
    assert a.energy.total_pj == pytest.approx(b.energy.total_pj)
    assert a.latency.step_ns_mean == pytest.approx(b.latency.step_ns_mean)
    assert hw.assumed_keys() == [] and a.energy.assumed == ()


def test_loihi1_latency_is_slowest_core_plus_barrier(files) -> None:
    net, x = files
    hw = load_profile("loihi1")
    r = profile_run(small_net(), np.load(x), hw)
    t = hw.time
    worst = 0.0
    for lc in r.counts.layers:  # every layer fits one core here
        assert lc.core_synops.shape[-1] == 1
        worst = np.maximum(worst, lc.synops * t["synop"].value
                           + lc.active * t["neuron_update_active"].value
                           + lc.inactive * t["neuron_update_inactive"].value)
    expect = worst + t["barrier_sync"].value
    assert r.latency.step_ns_mean == pytest.approx(float(expect.mean()))


def test_data_without_encoding_says_pass_input(files, tmp_path: Path) -> None:
    net, _ = files
    with pytest.raises(NetError, match="--input"):
        profile_command(net, data=tmp_path, out=tmp_path / "o")


def test_bad_options_are_one_line_errors(files, tmp_path: Path) -> None:
    net, x = files
    with pytest.raises(ConfigError, match="exactly one"):
        profile_command(net, out=tmp_path / "o")
    with pytest.raises(ConfigError, match="'ann'"):
        profile_command(net, inputs=x, profile="ann-45nm", out=tmp_path / "o")
    with pytest.raises(ConfigError, match="NAME=COUNT"):
        parse_macs(["teacher"])
    with pytest.raises(ConfigError, match="--ann-profile loihi1: kind 'neuromorphic'"):
        profile_command(net, inputs=x, ann_profile="loihi1", out=tmp_path / "o")
    assert not (tmp_path / "o" / "report.json").exists()


def test_data_split_is_encoded_with_the_nets_encoding(tmp_path: Path) -> None:
    """--data: the test split's clips become bias inputs through the stored encoding."""
    synth = pytest.importorskip("mskd.data.synth")
    encoding = pytest.importorskip("mskd.net.encoding")
    InputEncoding, write_encoding = encoding.InputEncoding, encoding.write_encoding

    synth.synthesize(tmp_path / "see", subjects=4, seed=0, size=8)
    net = tmp_path / "enc.net"
    write_netx(small_net(), net)
    enc = InputEncoding(input_gain=160, steps_per_frame=2, clip="E2-S1", size=(8, 8),
                        latency=2, readout_layer="3:dense", readout_scale=64.0,
                        classes=tuple("abc"))  # one per neuron of the readout layer
    write_encoding(net, enc)
    rep = profile_command(net, data=tmp_path / "see", profile="loihi1", out=tmp_path / "o",
                          limit=3)
    assert rep["samples"] == 3 and rep["steps"] == enc.steps == 6
    assert rep["input_step_s"] == pytest.approx(0.033 / 2)  # from the encoding
    assert rep["assumptions"] == []


def test_user_profile_path_is_used(files, tmp_path: Path) -> None:
    """--profile PATH.toml: a user's profile (here Loihi 1 with synops at twice the energy)."""
    net, x = files
    shipped = REPO / "hw_profiles" / "loihi1.toml"
    text = shipped.read_text().replace("value = 23.6", "value = 47.2", 1)
    mine = tmp_path / "mine.toml"
    mine.write_text(text)
    base = profile_command(net, inputs=x, profile="loihi1", out=tmp_path / "a")
    user = profile_command(net, inputs=x, profile=str(mine), out=tmp_path / "b")
    assert user["profile"]["file"] == str(mine)
    assert user["energy"]["by_kind"]["synop"] == pytest.approx(
        2 * base["energy"]["by_kind"]["synop"])
    assert user["energy"]["by_kind"]["spike"] == pytest.approx(base["energy"]["by_kind"]["spike"])
