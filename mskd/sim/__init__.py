"""The batched simulator, bit-exact with Lava's fixed-point models.

- :mod:`~mskd.sim.simulator` ``run(net, inputs) -> (outputs, record)``;
- :mod:`~mskd.sim.synapses` Dense/Conv/DelayDense synapses as Lava computes them.

It sits in the shared core because conversion checks its own output with it (the
quantization report, NIR fidelity, the ONNX check) before deployment runs it.
"""
