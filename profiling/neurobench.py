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


def neurobench_metrics(spec: NetSpec, counts: Counts, input_step_s: float | None = None) -> dict:
    """NeuroBench's static and workload metrics, and Intel's N-DNS power proxy beside them."""
    return {**static_metrics(spec), **workload_metrics(counts),
            "dns_power_proxy": dns_power_proxy(spec, counts, input_step_s)}


NEURON_OP_WEIGHT = 10  # Intel's proxy: a neuron update costs about ten synaptic ops


def dns_power_proxy(spec: NetSpec, counts: Counts, input_step_s: float | None) -> dict:
    """Intel's N-DNS challenge power proxy (``evaluate_network.ipynb`` of
    IntelLabs/IntelNeuromorphicDNSChallenge), computed as its code does it.

    Per step: ``SynOPS = sum over synapse layers of (event rate of the layer feeding it) x
    (its weight matrix size)``, the event rate being the share of non-zero outputs over
    neurons, steps and samples; ``NeuronOPS = neurons of every layer but the last``. The
    proxy is ``(SynOPS + 10 NeuronOPS) / dt`` operations per second of input, ``dt`` the
    input time one step stands for (8 ms in the challenge: a 128-sample hop at 16 kHz).
    Unlike NeuroBench's effective operations it counts zero weights and every synapse of
    the matrix a message could reach (the challenge's networks are dense).

    >>> import numpy as np
    >>> from mskd.net.spec import DenseLayer, InputLayer, NetSpec
    >>> from mskd.loihi.neurons import SdnNeuron
    >>> from mskd.profiling.counts import LayerCounts
    >>> spec = NetSpec((InputLayer((4,), SdnNeuron(1)),
    ...                 DenseLayer(4, 3, np.ones((3, 4), np.int64), SdnNeuron(1))))
    >>> lc = lambda name, i, n, sent: LayerCounts(name, i, "dense", n, 0, np.array(sent),
    ...     np.zeros((2, 1)), np.zeros((2, 1)), np.zeros((2, 1)), np.zeros((2, 1, 1)),
    ...     np.zeros((2, 1, 1)), (n,))
    >>> counts = Counts((lc("0:input", 0, 4, [[2.0], [0.0]]), lc("1:dense", 1, 3, [[1.0], [1.0]])),
    ...                 steps=2, batch=1, active_definition="")
    >>> out = dns_power_proxy(spec, counts, 0.008)
    >>> out["synops_per_step"], out["neuronops_per_step"], out["effective_synops_per_s"]
    (3.0, 4, 5375.0)
    """
    layers = counts.layers
    rates = [float(lc.spikes.sum()) / (lc.neurons * counts.steps * counts.batch)
             if lc.neurons else 0.0 for lc in layers]
    synops = 0.0
    for k in range(1, len(layers)):
        layer = spec.layers[layers[k].index]
        if isinstance(layer, SYNAPSE_LAYERS):
            synops += rates[k - 1] * sum(w.size for w in _weights(layer))
    neuron_ops = sum(lc.neurons for lc in layers[:-1])
    per_step = synops + NEURON_OP_WEIGHT * neuron_ops
    return {"synops_per_step": synops, "neuronops_per_step": neuron_ops,
            "input_step_s": input_step_s,
            "effective_synops_per_s": None if not input_step_s else per_step / input_step_s}
