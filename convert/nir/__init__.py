"""NIR in and out: the importer (graph, conventions and presets, layers, pooling, scaling,
fidelity report) and the exporter of our own students.

- :mod:`~mskd.convert.nir.graph` read and order a NIR graph;
- :mod:`~mskd.convert.nir.presets`, :mod:`~mskd.convert.nir.conventions` what each
  exporter (``--from``) means by its parameters;
- :mod:`~mskd.convert.nir.layers`, :mod:`~mskd.convert.nir.pool`,
  :mod:`~mskd.convert.nir.scale` one node pair -> one netx layer;
- :mod:`~mskd.convert.nir.importer` the whole import;
- :mod:`~mskd.convert.nir.fidelity` the float graph against the deployed network;
- :mod:`~mskd.convert.nir.export` our student as a NIR graph.
"""
