"""Loihi's fixed-point arithmetic, each rule defined once for every stage.

- :mod:`~mskd.loihi.lif` the CUBA-LIF neuron step and its float twin, the synapse side
  (netx's weight scaling, Dense/Conv outputs), the straight-through helper;
- :mod:`~mskd.loihi.sdn` the sigma-delta neurons (Delta, Sigma, SigmaDelta);
- :mod:`~mskd.loihi.neurons` the neuron groups of a netx layer;
- :mod:`~mskd.loihi.quantizers` named quantizers: the power-of-two weight exponent, the
  8-bit weight mantissa bounds, straight-through rounding;
- :mod:`~mskd.loihi.graded` graded (analog) input payloads.

The integer functions run on int64 tensors (exact: simulator, exporters, tests) and on
float64 tensors (fixed-point-aware training, straight-through gradients).
"""
