"""mskd.convert: trained students (or NIR graphs, or netx files) -> Loihi fixed point.

The flow, one concept per module:

* :mod:`~mskd.convert.student_io` load a student checkpoint, its input encoding;
* :mod:`~mskd.convert.quantize` fold it into a :class:`mskd.net.spec.NetSpec` (checked);
* :mod:`~mskd.convert.fit_check` map onto Loihi 1/2 cores, design rules;
* :mod:`~mskd.convert.netx_writer` write netx HDF5 + ``mskd_encoding`` atomically;
* :mod:`~mskd.convert.float_ref` / :mod:`~mskd.convert.quant_report` float vs deployed report;
* :mod:`~mskd.convert.report` JSON and Markdown reports;
* :mod:`~mskd.convert.nir.graph`, :mod:`~mskd.convert.nir.layers`,
  :mod:`~mskd.convert.nir.importer`, :mod:`~mskd.convert.nir.export` NIR in and out;
* :mod:`~mskd.convert.netx_import` netx files from lava-dl slayer;
* :mod:`~mskd.convert.onnx_export` float ONNX, :mod:`~mskd.convert.onnx_fixed` integer ONNX;
* :mod:`~mskd.convert.pipeline` all of it as one call; :mod:`~mskd.convert.cli` the CLI.
"""
