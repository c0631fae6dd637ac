"""The profile report's Markdown and plots, built directly from a profiled run: every
number the Markdown prints is the JSON's, and each plot is a real PNG of the data."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from mskd.hw_profiles import load_profile
from mskd.profiling.estimate import profile_run
from mskd.profiling.plots import needs_log_axis, write_plots
from mskd.profiling.report import build_report
from mskd.profiling.report_md import render_markdown
from PIL import Image

from mskd.net.spec import ConvLayer, DenseLayer, FlattenLayer, InputLayer, LifNeuron, NetSpec

pytestmark = pytest.mark.unit

LIF = LifNeuron(1024, 128, 40)


@pytest.fixture(scope="module")
def report():
    rng = np.random.default_rng(0)
    spec = NetSpec((InputLayer((1, 8, 8), LIF),
                    ConvLayer((1, 8, 8), (4, 4, 4), rng.integers(-20, 40, (4, 1, 3, 3)),
                              (2, 2), (1, 1), (1, 1), 1, LIF),
                    FlattenLayer((4, 4, 4), (64,)),
                    DenseLayer(64, 3, rng.integers(-20, 40, (3, 64)), LIF)))
    x = torch.from_numpy(np.random.default_rng(1).integers(0, 160, (3, 6, 1, 8, 8)))
    result = profile_run(spec, x, load_profile("loihi1"))
    return result, build_report(result, network="small.net", ann_profile=load_profile("ann-45nm"))


def test_markdown_prints_the_json_figures(report):
    _, rep = report
    md = render_markdown(rep)
    for section in ("## Summary", "## Per layer (per inference)", "## Core mapping",
                    "## Energy by operation (per inference)", "## Comparison with ANNs",
                    "## Definitions"):
        assert section in md
    total_uj = rep["energy"]["total"] / 1e6
    row = re.search(r"\| \*\*total\*\* \| \*\*([0-9.e+-]+)\*\* \| 100 % \|", md)
    assert row and float(row.group(1)) == pytest.approx(total_uj, rel=1e-3)
    for name in rep["energy"]["by_layer"]:
        assert name in md
    assert f"{rep['mapping']['total_cores']}" in md


def test_plots_are_pngs_of_the_run(report, tmp_path):
    result, rep = report
    paths = write_plots(rep, result.raster, tmp_path)
    assert [p.name for p in paths] == ["activity.png", "energy.png", "raster.png", "steps.png"]
    for p in paths:
        with Image.open(p) as img:
            assert img.format == "PNG" and img.size[0] > 200 and img.size[1] > 100
            assert len(set(np.asarray(img.convert("L")).ravel().tolist())) > 2  # not blank


def test_log_axis_only_when_series_differ_a_hundredfold():
    assert needs_log_axis([np.array([1.0, 2.0]), np.array([150.0, 300.0])])
    assert not needs_log_axis([np.array([1.0, 2.0]), np.array([50.0, 90.0])])
