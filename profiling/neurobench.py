"""NeuroBench's metrics (Yik et al., Nature Communications 2025), computed the same way for
CUBA-LIF and sigma-delta networks from the deployed network and a run's counts.

Conventions (stated in every report that shows them):

* **effective ACs / MACs**: per inference, every non-zero incoming message times the
  non-zero weights it reaches (zero weights skipped, as NeuroBench counts them): an AC where
  the message is a binary spike, a MAC where it is a graded payload. A conv's padding taps
  reach no neuron and are not counted.
* **dense operations**: per inference, every synapse of every layer once per step, zero
  weights included (what the network costs run densely, as an ANN would be).
* **activation sparsity**: zero outputs (no spike, or a zero payload) over all neuron
  outputs of all layers, steps and samples (the input layer's neurons included).
* **connection sparsity**: zero weights over all stored weight entries (conv kernels counted
  once, not per output position; recurrent weights included).
* **footprint**: bytes to hold the deployed network: each weight at its layer's weight bits,
  biases at 2 bytes (13-bit CUBA ``bias_mant``, 16-bit sigma-delta bias), neuron registers
  at 3 bytes each (24 bit: u and v for CUBA-LIF; sigma, act, residue, error for
  sigma-delta; act, residue, error for a Delta; sigma for a Sigma), plus 8 bytes of neuron
  parameters per layer (decays, threshold).

>>> import numpy as np
>>> from mskd.net.spec import DenseLayer, InputLayer, NetSpec
>>> from mskd.loihi.neurons import LifNeuron
>>> spec = NetSpec((InputLayer((3,), LifNeuron(4096, 0, 1)),
...                 DenseLayer(3, 2, np.array([[1, 0, 2], [0, 0, 3]]), LifNeuron(0, 0, 9))))
>>> static_metrics(spec)["connection_sparsity"]
0.5
"""

from __future__ import annotations

import numpy as np
from mskd.profiling.counts import Counts

from mskd.chip.synapses import weight_bits
from mskd.net.record import MODEL_REGS
from mskd.net.spec import SYNAPSE_LAYERS, NetSpec

REGISTER_BYTES = 3  # 24-bit registers
BIAS_BYTES = 2
PARAM_BYTES = 8  # decays and threshold of one layer


def _weights(layer) -> list[np.ndarray]:
    rec = getattr(layer, "weight_rec", None)
    return [np.asarray(layer.weight)] + ([np.asarray(rec)] if rec is not None else [])


def static_metrics(spec: NetSpec) -> dict:
    """Footprint (bytes) and connection sparsity of the deployed network."""
    n_w = n_zero = 0
    weight_bytes = bias_bytes = state_bytes = 0.0
    for i, layer in spec.neuron_layers():
        if isinstance(layer, SYNAPSE_LAYERS):
            bits = weight_bits(layer)
            for w in _weights(layer):
                n_w, n_zero = n_w + w.size, n_zero + int((w == 0).sum())
                weight_bytes += w.size * bits / 8
            if layer.bias is not None:
                bias_bytes += layer.bias.size * BIAS_BYTES
        regs = MODEL_REGS[spec.model(i)]
        state_bytes += int(np.prod(layer.out_shape)) * len(regs) * REGISTER_BYTES + PARAM_BYTES
    return {"footprint_bytes": weight_bytes + bias_bytes + state_bytes,
            "footprint_parts": {"weights": weight_bytes, "biases": bias_bytes,
                                "neuron_state": state_bytes},
            "connection_sparsity": n_zero / n_w if n_w else 0.0,
            "weights": n_w}


def workload_metrics(counts: Counts) -> dict:
    """Per-inference effective ACs/MACs, dense operations and activation sparsity."""
    outputs = sum(lc.neurons for lc in counts.layers) * counts.steps
    sent = counts.total("spikes")
    return {"effective_acs": counts.total("effective_ac"),
            "effective_macs": counts.total("effective_mac"),
            "dense_ops": float(sum(lc.dense_synapses for lc in counts.layers) * counts.steps),
            "activation_sparsity": 1.0 - sent / outputs if outputs else 0.0}


def neurobench_metrics(spec: NetSpec, counts: Counts) -> dict:
    return {**static_metrics(spec), **workload_metrics(counts)}
