"""The same network as a dense ANN on a 45 nm accelerator: arithmetic *and* memory traffic.

Counting only MACs leaves out what dominates real accelerators: moving weights and
activations (Horowitz, ISSCC 2014: a 64-bit SRAM read costs 10-100 pJ, an 8-bit multiply
0.2 pJ). The model, per inference of ``frames`` frames (every layer runs densely on every
frame, as an ANN processing the same video would):

* MACs: every synapse of every layer once per frame (conv padding taps excluded), each an
  8-bit x 8-bit multiply plus an 8-bit-operand add (``mul_int8 + add_int8``; the network
  is the 8-bit deployed one);
* weights: every weight byte read once per frame in 64-bit words from an on-chip SRAM
  that holds the layer's weights (the 8 KB, 32 KB or 1 MB figure, the smallest that fits);
* activations: every layer's input read once and output written once per frame, one byte
  per value, in 64-bit words from an SRAM that holds the largest map (write = read energy);
* no DRAM (all on chip), no control: a lower bound for a real ANN accelerator.

The fp32 MAC-only figure (``mac_fp32`` per MAC, what the profile report shows too) is given
beside it.

>>> import numpy as np
>>> from mskd.hw_profiles import load_profile
>>> from mskd.net.spec import DenseLayer, InputLayer, NetSpec
>>> from mskd.loihi.neurons import SdnNeuron
>>> spec = NetSpec((InputLayer((64,), SdnNeuron(1)),
...                 DenseLayer(64, 8, np.ones((8, 64), np.int64), SdnNeuron(1))))
>>> e = ann_energy_with_memory(spec, 1, load_profile("ann-45nm"))
>>> e["macs"], e["weight_bytes"], round(e["weights_pj"], 1)
(512.0, 512, 640.0)
"""

from __future__ import annotations

import numpy as np

from mskd.chip.synapses import layer_synapses, n_neurons
from mskd.net.spec import SYNAPSE_LAYERS, NetSpec

SRAM_BUCKETS = ((8 * 1024, "sram_read_64b_8kb"), (32 * 1024, "sram_read_64b_32kb"),
                (1024 * 1024, "sram_read_64b_1mb"))
WORD_BYTES = 8  # 64-bit SRAM words


def _sram_pj(size_bytes: int, profile) -> float:
    for limit, key in SRAM_BUCKETS:
        if size_bytes <= limit:
            return profile.energy[key].value
    return profile.energy[SRAM_BUCKETS[-1][1]].value


def ann_energy_with_memory(spec: NetSpec, frames: int, profile) -> dict:
    """pJ per inference of ``spec`` run as a dense 8-bit ANN on ``frames`` frames."""
    macs = weights_pj = 0.0
    weight_bytes = 0
    maps = [int(np.prod(spec.input_shape))]
    for _, layer in spec.neuron_layers():
        if not isinstance(layer, SYNAPSE_LAYERS):
            continue
        macs += layer_synapses(layer).count
        size = int(np.asarray(layer.weight).size) + (
            0 if getattr(layer, "weight_rec", None) is None else int(layer.weight_rec.size))
        weight_bytes += size
        weights_pj += -(-size // WORD_BYTES) * _sram_pj(size, profile)
        maps.append(n_neurons(layer))
    act_sram = _sram_pj(max(maps), profile)
    act_words = sum(-(-m // WORD_BYTES) for m in maps) + sum(-(-m // WORD_BYTES)
                                                             for m in maps[1:])
    e = profile.energy
    mac_pj = e["mul_int8"].value + e["add_int8"].value
    out = {"frames": frames, "macs": macs * frames, "weight_bytes": weight_bytes,
           "arithmetic_pj": macs * frames * mac_pj, "weights_pj": weights_pj * frames,
           "activations_pj": act_words * act_sram * frames,
           "mac_only_fp32_pj": macs * frames * e["mac_fp32"].value}
    out["total_pj"] = out["arithmetic_pj"] + out["weights_pj"] + out["activations_pj"]
    return out
