"""Hostile files through the CLI entry point: every reader refuses damage in one line naming
the file, writes nothing, never shows a traceback, never hangs, never takes the memory.

The cases (seeded, :mod:`fuzz_families`) run in-process through :func:`mskd.cli.main`
under a time limit; the ones that declare huge sizes also run as real subprocesses under
an address-space limit, with their peak memory checked. More random damage runs under
``slow``. Totals are in docs/robustness.md.
"""

from __future__ import annotations

import pytest
from fuzz_families import (
    build_base,
    checkpoint_cases,
    config_cases,
    dataset_cases,
    encoding_cases,
    input_cases,
    netx_cases,
    profile_cases,
    resume_cases,
    robust_cases,
    valid_input_variants,
)
from fuzzing import Case, check, run_capped, run_inprocess

FAMILIES = {"netx": netx_cases, "encoding": encoding_cases, "checkpoint": checkpoint_cases,
            "resume": resume_cases, "profile": profile_cases, "config": config_cases,
            "input": input_cases, "dataset": dataset_cases}
CASE_TIMEOUT_S = 60.0
GIB = 1 << 30


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_base(tmp_path_factory.mktemp("fuzz-base"))


def _run_all(cases: list[Case], capfd) -> tuple[list[str], dict]:
    problems, tally = [], {"cases": len(cases), "refused": 0, "accepted": 0}
    for case in cases:
        code, err, _ = run_inprocess(case, capfd, CASE_TIMEOUT_S)
        tally["refused" if code else "accepted"] += 1
        problem = check(case, code, err)
        if problem:
            problems.append(problem)
    return problems, tally


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_damaged_files_are_refused_in_one_line(family, base, tmp_path, capfd) -> None:
    cases = FAMILIES[family](base, tmp_path)
    problems, tally = _run_all(cases, capfd)
    print(f"fuzz {family}: {tally}")
    assert not problems, f"{len(problems)} of {len(cases)}:\n" + "\n".join(problems)


def test_random_damage_is_refused_or_harmless(base, tmp_path, capfd) -> None:
    cases = robust_cases(base, tmp_path, seed=0, n=8)
    problems, tally = _run_all(cases, capfd)
    print(f"fuzz robust: {tally}")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 6))
def test_more_random_damage(base, tmp_path, capfd, seed) -> None:
    cases = robust_cases(base, tmp_path, seed=seed, n=60)
    problems, tally = _run_all(cases, capfd)
    print(f"fuzz robust seed {seed}: {tally}")
    assert not problems, "\n".join(problems)


def test_valid_unusual_inputs_run(base, tmp_path, capfd) -> None:
    """Big-endian, Fortran-order, uint16 and integral float inputs are valid: converted,
    not refused with torch's byte-order text."""
    for what, path in valid_input_variants(base, tmp_path):
        case = Case(what, ["deploy", "run", base.net, "--input", path, "--out",
                           tmp_path / f"{what}.npz"], str(path), must_fail=False)
        code, err, _ = run_inprocess(case, capfd)
        assert code == 0, f"{what}: {err}"


HUGE = [  # (what, argv builder): each declares gigabytes to terabytes in a small file
    ("netx weight 40000^2", "netx", "weight 40000^2 declared"),
    ("netx weight 1e9 x 512", "netx", "weight 1e9 x 512 declared"),
    ("npy header 1e12", "input", "header 1e12"),
    ("checkpoint hidden 1e7", "checkpoint", "hidden 1e7"),
    ("checkpoint classes 1e7", "checkpoint", "classes 1e7"),
    ("encoding steps_per_frame 1e9", "encoding", "steps_per_frame 1e9"),
    ("jpeg bomb", "dataset", "jpg bomb 60000^2 (eval)"),
]


def test_huge_declared_sizes_stay_within_memory(base, tmp_path) -> None:
    """Real processes under RLIMIT_AS (a runaway allocation fails instead of swapping the
    machine), peak RSS checked: refused in one line, under 1.5 GiB."""
    by_name = {}
    for family in {f for _, f, _ in HUGE}:
        by_name.update({c.name: c for c in FAMILIES[family](base, tmp_path / family)})
    for what, family, case_name in HUGE:
        case = by_name[f"{family} {case_name}"]
        code, err, peak = run_capped(case, 8 * GIB)
        assert check(case, code, err) is None, f"{what}: {check(case, code, err)}"
        assert peak < 1.5 * GIB, f"{what}: peak RSS {peak / GIB:.2f} GiB"
    train = Case("train --size 100000", ["train", "student", base.see, "--out",
                                         tmp_path / "big", "--size", "100000", "--alpha",
                                         "0"], "--size", [tmp_path / "big"])
    code, err, peak = run_capped(train, 8 * GIB)
    assert check(train, code, err) is None and peak < 1.5 * GIB
