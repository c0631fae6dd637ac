"""Counts equal brute-force loops over spikes and weights; energy is linear in counts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from mskd.hw_profiles import load_profile
from mskd.profiling.counts import ACTIVE_SPIKE_ONLY, count_ops
from mskd.profiling.energy import OP_KINDS, energy

from mskd.chip.mapping import map_network
from mskd.net.record import LayerInfo, Record
from mskd.net.spec import ConvLayer, DenseLayer, FlattenLayer, InputLayer, LifNeuron, NetSpec

pytestmark = pytest.mark.unit

LIF = LifNeuron(1024, 128, 80)
LOIHI1 = load_profile("loihi1")


def _conv_out(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


@st.composite
def nets(draw):
    """Input neurons (bias-driven or not) -> conv -> flatten -> dense, random geometry."""
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    groups = draw(st.sampled_from([1, 2]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    h, w = draw(st.integers(3, 7)), draw(st.integers(3, 7))
    k, s = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    p, d = draw(st.integers(0, 2)), draw(st.integers(1, 2))
    ho, wo = _conv_out(h, k, s, p, d), _conv_out(w, k, s, p, d)
    if min(ho, wo) < 1:
        p, d, k = 1, 1, 1
        ho, wo = _conv_out(h, k, s, p, d), _conv_out(w, k, s, p, d)
    weight = rng.integers(-3, 4, (cout, cin // groups, k, k)).astype(np.int64)
    weight[0, 0, 0, 0] = 1  # netx refuses all-zero weights
    conv = ConvLayer((cin, h, w), (cout, ho, wo), weight, (s, s), (p, p), (d, d), groups, LIF)
    n_flat = cout * ho * wo
    dense_w = rng.integers(-2, 3, (3, n_flat)).astype(np.int64)
    dense_w[0, 0] = 1
    bias_driven = draw(st.booleans())
    layers = (InputLayer((cin, h, w), LIF if bias_driven else None), conv,
              FlattenLayer((cout, ho, wo), (n_flat,)), DenseLayer(n_flat, 3, dense_w, LIF))
    return NetSpec(layers), draw(st.booleans()), rng


def _record(spec, rng, steps=3, batch=2, with_uv=True):
    infos, spikes, u, v = [], {}, {}, {}
    for i, layer in spec.neuron_layers():
        shape = layer.out_shape
        name = f"{i}:{type(layer).__name__[:-5].lower()}"
        infos.append(LayerInfo(name, name.split(":")[1], shape))
        spikes[name] = torch.from_numpy(rng.random((steps, batch, *shape)) < 0.3).to(torch.uint8)
        size = (steps, batch, *shape)
        u_val = rng.integers(-1, 2, size) * (rng.random(size) < 0.2)
        u[name] = torch.from_numpy(u_val).to(torch.int32)
        v[name] = torch.zeros((steps, batch, *shape), dtype=torch.int32)
    return Record(tuple(infos), spikes, {"u": u, "v": v} if with_uv else {})


def brute_synops(layer, src: np.ndarray, skip_zero: bool) -> int:
    """Explicit loops: every spike times every weight whose output lands inside the map."""
    total = 0
    if isinstance(layer, DenseLayer):
        for j in np.flatnonzero(src):
            for o in range(layer.out_features):
                total += int(not skip_zero or layer.weight[o, j] != 0)
        return total
    c_in, h, w = layer.in_shape
    c_out, ho, wo = layer.out_shape
    cg_in, cg_out = c_in // layer.groups, c_out // layer.groups
    (sh, sw), (ph, pw), (dh, dw) = layer.stride, layer.padding, layer.dilation
    kh, kw = layer.weight.shape[2:]
    for ci, y, x in zip(*np.nonzero(src.reshape(c_in, h, w)), strict=True):
        g = ci // cg_in
        for co in range(g * cg_out, (g + 1) * cg_out):
            for ky in range(kh):
                for kx in range(kw):
                    if skip_zero and layer.weight[co, ci - g * cg_in, ky, kx] == 0:
                        continue
                    ny, nx = y + ph - ky * dh, x + pw - kx * dw
                    if ny % sh or nx % sw:
                        continue
                    if 0 <= ny // sh < ho and 0 <= nx // sw < wo:
                        total += 1
    return total


@settings(max_examples=25, deadline=None)
@given(nets())
def test_synops_equal_brute_force(case) -> None:
    """For random conv/dense geometry, synops per step and sample equal explicit loops."""
    spec, skip_zero, rng = case
    rec = _record(spec, rng)
    inp = None if spec.bias_driven else torch.from_numpy(
        rng.random((3, 2, *spec.input_shape)) < 0.4).to(torch.uint8)
    counts = count_ops(spec, rec, map_network(spec, LOIHI1, skip_zero=skip_zero),
                       input_spikes=inp, skip_zero=skip_zero)
    by_index = {lc.index: lc for lc in counts.layers}
    for t in range(3):
        for b in range(2):
            conv_src = (inp[t, b].numpy() if inp is not None
                        else rec.spikes["0:input"][t, b].numpy())
            assert by_index[1].synops[t, b] == brute_synops(spec.layers[1], conv_src, skip_zero)
            dense_src = rec.spikes["1:conv"][t, b].numpy().reshape(-1)
            assert by_index[3].synops[t, b] == brute_synops(spec.layers[3], dense_src, skip_zero)
            assert by_index[3].core_synops[t, b].sum() == by_index[3].synops[t, b]
    for lc in counts.layers:
        name = lc.name
        act = (rec.spikes[name].numpy() != 0) | (rec.u[name].numpy() != 0)
        np.testing.assert_array_equal(lc.active, act.reshape(3, 2, -1).sum(-1))
        np.testing.assert_array_equal(lc.spikes, rec.spikes[name].numpy().reshape(3, 2, -1).sum(-1))


@settings(max_examples=10, deadline=None)
@given(nets(), st.floats(0.0, 10.0))
def test_energy_is_linear_in_counts(case, scale) -> None:
    """Doubling every per-op energy doubles the total; each kind is count x figure."""
    spec, _, rng = case
    rec = _record(spec, rng)
    inp = torch.ones((3, 2, *spec.input_shape), dtype=torch.uint8)
    counts = count_ops(spec, rec, map_network(spec, LOIHI1), input_spikes=inp)
    e = energy(counts, LOIHI1)
    for kind, (count, key) in OP_KINDS.items():
        if key not in LOIHI1.energy:  # graded kinds: a CUBA network has none of them
            assert counts.total(count) == e.by_kind()[kind] == 0
            continue
        assert e.by_kind()[kind] == pytest.approx(counts.total(count) * LOIHI1.energy[key].value)
    scaled = _scaled_profile(scale)
    assert energy(counts, scaled).total_pj == pytest.approx(scale * e.total_pj)


def _scaled_profile(scale: float):
    from dataclasses import replace

    q = {k: replace(v, value=v.value * scale) for k, v in LOIHI1.energy.items()}
    return replace(LOIHI1, energy=q)


@settings(max_examples=5, deadline=None)
@given(nets())
def test_silent_network_costs_only_neuron_updates(case) -> None:
    spec, _, rng = case
    rec = _record(spec, rng, with_uv=False)
    silent = Record(rec.layers, {k: torch.zeros_like(s) for k, s in rec.spikes.items()})
    inp = torch.zeros((3, 2, *spec.input_shape), dtype=torch.uint8)
    counts = count_ops(spec, silent, map_network(spec, LOIHI1), input_spikes=inp)
    kinds = energy(counts, LOIHI1).by_kind()
    assert counts.active_definition == ACTIVE_SPIKE_ONLY
    assert kinds["synop"] == kinds["spike"] == kinds["neuron_update_active"] == 0
    neurons = sum(lc.neurons for lc in counts.layers)
    assert kinds["neuron_update_inactive"] == pytest.approx(
        3 * neurons * LOIHI1.energy["neuron_update_inactive"].value)
