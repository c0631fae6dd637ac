"""Output locks and leftovers: a second writer fails at once in one line; what a killed
writer leaves behind is removed by the next write, a live writer's temp file never."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import run_mskd

from mskd.fsio import OutputLocked, atomic_dir, atomic_path, clean_leftovers, output_lock

HOLD = """
import sys, time
from mskd.fsio import output_lock
with output_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def _holder(target: Path) -> subprocess.Popen:
    """Another process holding the lock of ``target`` (until killed)."""
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(target)], stdout=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline().strip() == "held"
    return p


def _killed_inside(fn) -> None:
    """Run ``fn`` in a forked child that SIGKILLs itself inside it (a real kill -9)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        try:
            fn()
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def test_second_synth_on_one_folder_fails_at_once_naming_the_holder(tmp_path: Path) -> None:
    out = tmp_path / "see"
    holder = _holder(out)
    try:
        start = time.monotonic()
        second = run_mskd("data", "synth", "--out", str(out), "--subjects", "2", "--size", "8")
        assert time.monotonic() - start < 60
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 1
    assert second.stderr == (f"error: {out}: pid {holder.pid} is writing it now (lock "
                             ".see.lock); wait for it to finish or choose another output\n")
    assert not out.exists()
    # the holder was SIGKILLed: its lock is free again, the next writer takes it over
    again = run_mskd("data", "synth", "--out", str(out), "--subjects", "2", "--size", "8")
    assert again.returncode == 0, again.stderr
    assert (out / "split.json").is_file() and not (tmp_path / ".see.lock").exists()


def test_two_synths_at_once_one_wins_one_fails(tmp_path: Path) -> None:
    out = tmp_path / "see"
    args = [sys.executable, "-m", "mskd", "data", "synth", "--out", str(out), "--subjects",
            "4", "--size", "16"]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = sorted((p.wait(timeout=600), p.communicate()[1]) for p in procs)
    (ok, _), (failed, err) = results
    assert ok == 0 and failed == 1, results
    assert err.count("\n") == 1 and ("is writing it now" in err or "already exists" in err)
    assert (out / "split.json").is_file()


def test_second_demo_on_one_folder_fails_at_once(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    out.mkdir()
    holder = _holder(out)
    try:
        second = run_mskd("demo", "--out", str(out), "--subjects", "2")
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 1 and "is writing it now" in second.stderr
    assert second.stderr.count("\n") == 1 and list(out.iterdir()) == []


def test_lock_is_reentrant_in_one_process_and_exclusive_across(tmp_path: Path) -> None:
    target = tmp_path / "x"
    with output_lock(target), output_lock(target):
        assert (tmp_path / ".x.lock").read_text() == f"{os.getpid()}\n"
    assert not (tmp_path / ".x.lock").exists()
    holder = _holder(target)
    try:
        with pytest.raises(OutputLocked, match=f"pid {holder.pid} is writing it"):
            with output_lock(target):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_checkpoint_temp_left_by_a_kill_is_removed_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "checkpoint.safetensors"

    def write_and_die() -> None:
        with atomic_path(target):
            os.kill(os.getpid(), signal.SIGKILL)  # the 0-byte temp file stays

    _killed_inside(write_and_die)
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".checkpoint.safetensors.")
    assert (tmp_path / left[0]).stat().st_size == 0
    from mskd.fsio import write_bytes

    write_bytes(target, b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.safetensors"]


def test_partial_folder_left_by_a_kill_is_removed_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "teacher"

    def build_and_die() -> None:
        with atomic_dir(target) as tmp:
            (tmp / "half.bin").write_bytes(b"x")
            os.kill(os.getpid(), signal.SIGKILL)

    _killed_inside(build_and_die)
    # its lock file stays too, unlocked since the kernel dropped the dead holder's flock
    assert sorted(p.name[:17] for p in tmp_path.iterdir()) == [".teacher.lock",
                                                               ".teacher.partial-"]
    with atomic_dir(target) as tmp:
        (tmp / "done").write_text("ok")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["teacher"]


def test_live_writers_temp_files_are_kept(tmp_path: Path) -> None:
    """Only leftovers of dead pids go; a concurrent writer's temp file and folder stay, and
    so do other files that merely look similar."""
    live = subprocess.Popen(["sleep", "30"])
    try:
        keep = [tmp_path / f".out.{live.pid}-abcd1234.tmp",
                tmp_path / f".out.partial-{live.pid}-abcd1234",
                tmp_path / ".out.notes.txt", tmp_path / ".other.12-abcd1234.tmp"]
        keep[0].write_bytes(b"")
        keep[1].mkdir()
        keep[2].write_text("mine")
        keep[3].write_bytes(b"")
        assert clean_leftovers(tmp_path / "out") == []
        assert all(p.exists() for p in keep)
    finally:
        live.kill()
        live.wait()
    assert sorted(clean_leftovers(tmp_path / "out")) == sorted(keep[:2])
