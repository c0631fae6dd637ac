"""`mskd deploy script` and `mskd profile --measured/--refit`: the script runs in Lava (its
CPU models here), its output equals the simulator's, and a hardware run's JSON is checked,
compared and refitted into a profile that reproduces it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import run_mskd
from mskd.hw_profiles import load_profile
from mskd.profiling.cli import profile_command

from mskd.errors import ConfigError
from mskd.net.netx_io import write_netx
from mskd.net.spec import DenseLayer, InputLayer, LifNeuron, NetSpec
from mskd.sim import simulator as sim

STEPS = 10  # per inference


def _net(tmp_path: Path) -> tuple[Path, Path, NetSpec]:
    rng = np.random.default_rng(5)
    spec = NetSpec((InputLayer((6,), LifNeuron(4096, 0, 40)),
                    DenseLayer(6, 4, rng.integers(-30, 90, (4, 6)), LifNeuron(1024, 256, 30))))
    write_netx(spec, tmp_path / "n.net")
    np.save(tmp_path / "x.npy", rng.integers(0, 2000, (1, 6)))
    return tmp_path / "n.net", tmp_path / "x.npy", spec


@pytest.mark.lava
def test_script_runs_in_lava_and_matches_the_simulator(tmp_path):
    net, x, spec = _net(tmp_path)
    out = run_mskd("deploy", "script", net, "--input", x, "--out", tmp_path / "run.py",
                   "--steps", STEPS, "--num-steps", 3 * STEPS)
    assert out.returncode == 0, out.stderr
    ran = subprocess.run([sys.executable, str(tmp_path / "run.py")], capture_output=True,
                         text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    meas = json.loads((tmp_path / "run.json").read_text())
    assert meas["backend"] == "Loihi2SimCfg" and meas["num_steps"] == 3 * STEPS
    inputs = torch.from_numpy(np.load(x))
    outputs, _ = sim.run(spec, inputs, steps=3 * STEPS, reset_interval=STEPS)
    want = outputs[:, 0].reshape(3 * STEPS, -1).sum(1).tolist()
    assert meas["output_spikes_per_step"] == want and sum(want) > 0


def _hardware_run(tmp_path: Path, **change) -> Path:
    run = {"schema": "mskd-lava-run/1", "network": "n.net", "backend": "Loihi2HwCfg",
           "steps_per_inference": STEPS, "num_steps": 1000, "wall_s": 3.0,
           "time_per_step_us": 40.0, "throughput_per_s": 2500.0, "total_power_w": 0.3,
           "static_power_w": 0.25, "dynamic_power_w": 0.05,
           "dynamic_energy_per_inference_uj": 20.0, "total_energy_per_inference_uj": 120.0,
           **change}
    path = tmp_path / "hw.json"
    path.write_text(json.dumps({k: v for k, v in run.items() if v is not None}))
    return path


def test_measured_run_is_compared_and_refitted_to_a_profile_that_reproduces_it(tmp_path):
    net, x, _ = _net(tmp_path)
    rep = profile_command(net, inputs=x, steps=STEPS, out=tmp_path / "p", platforms="none",
                          measured=_hardware_run(tmp_path), refit=tmp_path / "fit.toml",
                          verbose=False)
    rows = {r["quantity"]: r for r in rep["measured"]["comparison"]}
    assert rows["dynamic_energy_per_inference_uj"]["measured"] == 20.0
    assert rows["time_per_step_us"]["estimated"] == pytest.approx(
        rep["latency"]["step_ns_mean"] / 1e3)
    assert "## Estimate against the measured run" in (tmp_path / "p" / "report.md").read_text()
    fitted = load_profile(tmp_path / "fit.toml")
    assert fitted.power["static_per_chip"].value == 0.25
    assert "fitted" in fitted.energy["synop"].source and not fitted.energy["synop"].assumed
    again = profile_command(net, inputs=x, steps=STEPS, out=tmp_path / "p2", platforms="none",
                            profile=str(tmp_path / "fit.toml"), verbose=False)
    assert again["energy"]["total"] / 1e6 == pytest.approx(20.0, rel=1e-6)
    assert again["latency"]["step_ns_mean"] / 1e3 == pytest.approx(40.0, rel=1e-6)


@pytest.mark.parametrize("change, field", [
    ({"schema": "other"}, "'schema'"),
    ({"time_per_step_us": None}, "'time_per_step_us' is missing"),
    ({"total_power_w": -1.0}, "'total_power_w' is -1.0"),
    ({"dynamic_energy_per_inference_uj": 0}, "'dynamic_energy_per_inference_uj' is 0"),
    ({"steps_per_inference": 0}, "'steps_per_inference'"),
])
def test_a_bad_measured_run_is_one_line_naming_the_field(tmp_path, change, field):
    net, x, _ = _net(tmp_path)
    with pytest.raises(ConfigError, match=field) as info:
        profile_command(net, inputs=x, steps=STEPS, out=tmp_path / "p", platforms="none",
                        measured=_hardware_run(tmp_path, **change), verbose=False)
    assert "hw.json" in str(info.value) and not (tmp_path / "p").exists()


def test_refit_needs_a_measured_run(tmp_path):
    net, x, _ = _net(tmp_path)
    with pytest.raises(ConfigError, match="--refit needs --measured"):
        profile_command(net, inputs=x, steps=STEPS, out=tmp_path / "p",
                        refit=tmp_path / "fit.toml", verbose=False)
