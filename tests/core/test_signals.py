"""Real signals to real process groups: Ctrl-C, SIGTERM, a dead Lava worker, a killed mskd.

Each test starts ``mskd`` in a session of its own (as a shell starts a foreground job),
waits until Lava's workers run, sends the signal the way a terminal or ``kill`` would, and
then checks by process id and by name that nothing is left: no live process of those seen
below mskd, no ``/dev/shm/psm_mskd<pid>x*`` segment, no ``/tmp/mskd-lava-<pid>-*`` folder,
and exactly one line on stderr with the shell's exit code.
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from mskd.deploy import lava_supervisor

from mskd import procgroup
from mskd.net.netx_io import write_netx
from mskd.net.spec import DenseLayer, InputLayer, LifNeuron, NetSpec

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
LONG_RUN = ["--samples", "400", "--steps", "60"]  # minutes of Lava: always interrupted


@pytest.fixture(scope="module")
def net(tmp_path_factory) -> Path:
    pytest.importorskip("lava.lib.dl.netx")
    path = tmp_path_factory.mktemp("net") / "net.net"
    write_netx(NetSpec((InputLayer((4,), LifNeuron(4096, 0, 3)),
                        DenseLayer(4, 3, np.arange(12).reshape(3, 4) - 5, LifNeuron(10, 10, 1)))),
               path)
    return path


@pytest.fixture
def start():
    """Start ``mskd ARGS`` as the leader of a new session; killed at the end if still there."""
    started: list[subprocess.Popen] = []

    def _start(*args: str) -> subprocess.Popen:
        started.append(subprocess.Popen([sys.executable, "-m", "mskd", *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, start_new_session=True))
        return started[-1]

    yield _start
    for p in started:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()


def _shm(pid: int) -> list[str]:
    return glob.glob(f"/dev/shm/{lava_supervisor.SHM_PREFIX}{pid}x*")


def _tmp(pid: int) -> list[str]:
    return glob.glob(os.path.join(tempfile.gettempdir(), f"mskd-lava-{pid}-*"))


def _wait_for_lava(p: subprocess.Popen, timeout: float = 120.0) -> set[int]:
    """Block until Lava's workers run below ``p`` (its shared memory exists); return the
    process ids seen below ``p`` so far."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert p.poll() is None, p.communicate()
        seen |= set(procgroup.descendants(p.pid))
        if len(seen) >= 4 and _shm(p.pid):
            time.sleep(0.5)  # well into the run: sample after sample
            return seen | set(procgroup.descendants(p.pid))
        time.sleep(0.1)
    raise AssertionError("Lava did not start")


def _finish(p: subprocess.Popen, seen: set[int], within: float = 15.0) -> tuple[int, str]:
    """Wait for ``p``; check it ended within ``within`` s and left nothing behind."""
    begin = time.monotonic()
    _, err = p.communicate(timeout=120)
    elapsed = time.monotonic() - begin
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and [q for q in seen if procgroup.alive(q)]:
        time.sleep(0.05)
    assert [q for q in seen if procgroup.alive(q)] == [], "processes left running"
    assert _shm(p.pid) == [] and _tmp(p.pid) == [], "shared memory or temp folder left"
    assert elapsed < within
    return p.returncode, err


def _worker(seen: set[int]) -> int:
    """A Lava worker: the last process the runtime started in the child's group (a process
    model or runtime service; the first ones are multiprocessing's helpers, whose loss
    Lava does not notice)."""
    leaders = [q for q in seen if procgroup.alive(q) and os.getpgid(q) == q]
    assert len(leaders) == 1
    return max(q for q in seen if procgroup.alive(q) and q != leaders[0]
               and os.getpgid(q) == leaders[0])


@pytest.mark.lava
@pytest.mark.parametrize("signals, code, line", [
    ((signal.SIGINT,), 130, "error: interrupted"),
    ((signal.SIGINT, signal.SIGINT), 130, "error: interrupted"),  # impatient second Ctrl-C
    ((signal.SIGTERM,), 143, "error: terminated (SIGTERM)"),
])
def test_signal_during_lava_stops_everything(net: Path, start, signals, code: int,
                                             line: str) -> None:
    p = start("deploy", "verify", str(net), *LONG_RUN)
    seen = _wait_for_lava(p)
    for sig in signals:  # to the whole foreground group, as the terminal does
        os.killpg(p.pid, sig)
        time.sleep(0.05)
    rc, err = _finish(p, seen)
    assert (rc, err) == (code, line + "\n")


@pytest.mark.lava
def test_dead_lava_worker_is_an_error_naming_it(net: Path, start) -> None:
    p = start("deploy", "verify", str(net), *LONG_RUN)
    seen = _wait_for_lava(p)
    victim = _worker(seen)
    os.kill(victim, signal.SIGKILL)
    rc, err = _finish(p, seen)
    assert rc == 1 and err.count("\n") == 1, err
    assert err.startswith("error: Lava ") and f"(pid {victim}) died (killed by SIGKILL)" in err


@pytest.mark.lava
def test_killed_mskd_leaves_no_lava_behind(net: Path, start) -> None:
    """SIGKILL cannot be caught: Lava's group notices mskd is gone and removes itself."""
    p = start("deploy", "verify", str(net), *LONG_RUN)
    seen = _wait_for_lava(p)
    os.kill(p.pid, signal.SIGKILL)
    rc, _ = _finish(p, seen)
    assert rc == -signal.SIGKILL


@pytest.mark.lava
@pytest.mark.slow
def test_stalled_lava_times_out(net: Path, start) -> None:
    p = start("deploy", "verify", str(net), *LONG_RUN, "--timeout", "3")
    seen = _wait_for_lava(p)
    os.kill(_worker(seen), signal.SIGSTOP)
    rc, err = _finish(p, seen, within=30)
    assert rc == 1 and "Lava made no progress for 3 s" in err and err.count("\n") == 1


@pytest.mark.lava
@pytest.mark.slow
def test_worker_killed_by_sigbus_hints_at_shared_memory(net: Path, start) -> None:
    p = start("deploy", "verify", str(net), *LONG_RUN)
    seen = _wait_for_lava(p)
    os.kill(_worker(seen), signal.SIGBUS)
    rc, err = _finish(p, seen)
    assert rc == 1 and "killed by SIGBUS" in err and "/dev/shm full" in err


@pytest.mark.parametrize("after", [0.15, 0.3, 0.45, 0.6, 0.9])
def test_ctrl_c_while_starting_is_one_line(tmp_path: Path, start, after: float) -> None:
    """Ctrl-C during the first second (torch's import, the dataset's decoding) is one line
    too, not a traceback, and stops the command: one landing inside torch's C extension
    init was swallowed there (training ran on and exited 0) until that import was shielded.
    (``mskd --help`` and light commands no longer import torch.)"""
    from mskd.data.synth import synthesize

    data = synthesize(tmp_path / "see", subjects=2, seed=0, size=8, min_length=4,
                      max_length=6)
    p = start("train", "teacher", str(data), "--out", str(tmp_path / "t"), "--clip", "E2-S1",
              "--size", "8", "--epochs", "100")
    time.sleep(after)  # training imports torch first (about 1.5 s)
    os.killpg(p.pid, signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert (p.returncode, err) == (130, "error: interrupted\n")
    assert "epoch 100" not in out  # stopped, not run to the end


def test_ctrl_c_in_data_synth_stops_its_workers_quietly(tmp_path: Path, start) -> None:
    out = tmp_path / "see"
    p = start("data", "synth", "--out", str(out), "--subjects", "24", "--workers", "2")
    deadline = time.monotonic() + 60
    while len(procgroup.descendants(p.pid)) < 2:  # the worker pool runs
        assert time.monotonic() < deadline and p.poll() is None
        time.sleep(0.05)
    seen = set(procgroup.descendants(p.pid))
    os.killpg(p.pid, signal.SIGINT)
    rc, err = _finish(p, seen)
    assert (rc, err) == (130, "error: interrupted\n")
    assert list(tmp_path.iterdir()) == []  # no dataset, no .see.partial-* folder


def test_leftovers_of_dead_owners_are_removed_live_ones_kept(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    live = subprocess.Popen(["sleep", "30"])
    try:
        made = []
        for pid in (dead.pid, live.pid):
            d = Path(tempfile.mkdtemp(prefix=f"mskd-lava-{pid}-"))
            (d / "lava.log").write_text("x")
            shm = Path(f"/dev/shm/{lava_supervisor.SHM_PREFIX}{pid}x0_ab12")
            shm.write_bytes(b"\0" * 16)
            made.append((d, shm))
        removed = lava_supervisor.clean_stale()
        (dead_dir, dead_shm), (live_dir, live_shm) = made
        assert str(dead_dir) in removed and str(dead_shm) in removed
        assert not dead_dir.exists() and not dead_shm.exists()
        assert live_dir.exists() and live_shm.exists()
    finally:
        live.kill()
        live.wait()
        lava_supervisor.clean_stale()
    assert not live_dir.exists() and not live_shm.exists()
