"""The Loihi 2 profile against what Intel measured on Loihi 2: each quantity with its error,
and whether the profile was fitted on it or it is held out.

Needs a checkout of lava-dl (its test folder holds Intel's PilotNet LIF network and the
frame its tests drive it with; they are not shipped with mskd):

    .venv/bin/python scripts/validate_loihi2.py --lava-dl ../lava-dl [--out table.md]

Measurements (quoted, with where they come from):

* [PN] lava-dl ``tutorials/lava/lib/dl/netx/pilotnet_snn/benchmark.ipynb`` at commit
  b9e369172b46bb0aa5494ed91613c1a5338aa734 (2023-01-10, one Loihi 2 chip, Oheo Gulch):
  ``Throughput : 408.91 fps.`` at 16 steps per inference; ``Dynamic Power : 0.447156 W``,
  ``Static Power : 0.232078 W``; ``Total Energy per inference : 1.661103 mJ``,
  ``Dynamic Energy per inference : 1.093544 mJ``; and the compiler's per-core table (74
  cores: 13, 25, 13, 3, 3, 2 for the input and conv layers, 12, 1, 1, 1 for the dense
  ones). The profile's ``energy.synop`` and two synaptic-memory figures were fitted here.
* [PNS] the same notebook for PilotNet SDNN (``pilotnet_sdnn/benchmark.ipynb``, same commit):
  the compiler's table (61 cores), held out (tests/profiling/test_loihi2_mapping.py).
* [YK] lava-dl fork mbrehove/lava-dl, ``tutorials/lava/lib/dl/netx/yolo_kp/
  benchmark_unthrottled (1).ipynb`` at commit 44f1fbbad73a8e9473f911c400340b6c1c9befb3 (run
  of 2024-02-20, 9 chips of a 16-chip board): ``SDNN SynOps per frame = 209028479.14``,
  ``Dynamic Power : 0.513931 W`` at ``Throughput : 111.60 fps`` (4.605241 mJ per frame),
  and the compiler's table (neurons per core x cores of each layer). Held out: YOLO-KP's
  network is not public in a form mskd can read offline, so the estimate costs the counts
  Intel printed (synops) and the neurons its compiler placed (every neuron updated once
  per frame) with the profile's figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from mskd.hw_profiles import load_profile

from mskd.net.netx_io import read_netx

PN = {"throughput_per_s": 408.91, "dynamic_uj": 1093.544, "total_uj": 1661.103,
      "static_w": 0.232078, "steps": 16,
      "cores": [13, 25, 13, 3, 3, 2, 12, 1, 1, 1]}
YK = {"synops_per_frame": 209028479.14, "dynamic_uj": 4605.241,
      # compiler table, cell 31: neurons per core x cores, output layer first; the input
      # row (Delta encoder, 448 cores) is left out: it prints 17,472 neurons per core,
      # more than a core holds, so its count is not a per-core neuron count
      "neurons": [2688 * 4, 3584 * 32, 3584 * 14, 3584 * 32, 3584 * 16, 3584 * 56,
                  3584 * 28, 3584 * 56, 3584 * 112, 3584 * 224]}


def _row(quantity, measured, estimated, fit, unit=""):
    err = None if measured in (None, 0) else (estimated - measured) / measured
    return {"quantity": quantity, "measured": measured, "estimated": estimated,
            "error": err, "fit": fit, "unit": unit}


def pilotnet_rows(lava_dl: Path) -> list[dict]:
    from mskd.profiling.energy import static_and_total
    from mskd.profiling.estimate import profile_run

    gts = lava_dl / "tests" / "lava" / "lib" / "dl" / "netx" / "gts" / "pilotnet_lif"
    spec = read_netx(gts / "network.net")
    image = np.load(gts / "image.npy").astype(np.int64)  # (W, H, C), as lava-dl's test
    x = torch.from_numpy(image.transpose(2, 1, 0)[None].copy())  # [1, C, H, W] bias
    hw = load_profile("loihi2")
    res = profile_run(spec, x, hw, steps=PN["steps"])
    dyn = res.energy.total_pj / 1e6
    lat = res.latency
    tot = static_and_total(res.energy.total_pj, lat.inference_ns_mean,
                           res.mapping.total_cores, hw, PN["throughput_per_s"])
    cores = [lm.n_cores for lm in res.mapping.layers]
    same = sum(a == b for a, b in zip(cores, PN["cores"], strict=True))
    return [
        _row("PilotNet LIF cores (total)", sum(PN["cores"]), res.mapping.total_cores,
             "fitted: conv tile rule and dense memory model read off this table"),
        _row(f"PilotNet LIF layers with the compiler's core count ({same} of {len(cores)})",
             len(cores), same, "fitted (as above)"),
        _row("PilotNet LIF dynamic energy per inference", PN["dynamic_uj"], dyn,
             "fitted: energy.synop", "uJ"),
        _row("PilotNet LIF throughput", PN["throughput_per_s"], lat.throughput_per_s,
             "held out: Intel's time constants from YK, nothing fitted", "inferences/s"),
        _row("PilotNet LIF time per step", 1e6 / (PN["throughput_per_s"] * PN["steps"]),
             lat.step_ns_mean / 1e3, "held out (as above)", "us"),
        _row("PilotNet LIF total energy per inference at the measured rate",
             PN["total_uj"], tot["total_at_rate_pj"] / 1e6,
             "held out for static power (measured in the same run)", "uJ"),
        _row("PilotNet LIF total energy per inference at the estimated maximum rate",
             PN["total_uj"], tot["total_at_max_pj"] / 1e6,
             "held out: latency error enters through the static share", "uJ"),
    ]


def yolo_rows() -> list[dict]:
    hw = load_profile("loihi2")
    est = (YK["synops_per_frame"] * hw.energy["synop_graded"].value
           + sum(YK["neurons"]) * hw.energy["neuron_update_active"].value) / 1e6
    return [_row("YOLO-KP dynamic energy per frame (Intel's synops, compiler's neurons)",
                 YK["dynamic_uj"], est, "held out", "uJ")]


def markdown(rows: list[dict]) -> str:
    lines = ["| quantity | measured | estimated | error | fitted or held out |",
             "|---|---|---|---|---|"]
    for r in rows:
        err = "" if r["error"] is None else f"{100 * r['error']:+.1f} %"
        lines.append(f"| {r['quantity']} | {r['measured']:.4g} {r['unit']} | "
                     f"{r['estimated']:.4g} {r['unit']} | {err} | {r['fit']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lava-dl", type=Path, required=True, help="a checkout of lava-dl")
    ap.add_argument("--out", type=Path, help="also write the table (Markdown) and JSON here")
    args = ap.parse_args(argv)
    if not (args.lava_dl / "tests" / "lava" / "lib" / "dl" / "netx").is_dir():
        print(f"error: {args.lava_dl}: not a lava-dl checkout (no tests/lava/lib/dl/netx)",
              file=sys.stderr)
        return 2
    rows = pilotnet_rows(args.lava_dl) + yolo_rows()
    text = markdown(rows)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
        args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
