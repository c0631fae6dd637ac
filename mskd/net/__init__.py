"""The netx network model and its file boundary.

- :mod:`~mskd.net.spec` the typed, validated :class:`~mskd.net.spec.NetSpec`;
- :mod:`~mskd.net.netx_io` netx HDF5 <-> NetSpec, and the one reader/writer of every
  ``mskd_*`` root attribute;
- :mod:`~mskd.net.encoding` how frames become input and readout becomes logits;
- :mod:`~mskd.net.inputs` input layouts every backend accepts, checked once;
- :mod:`~mskd.net.record` what a backend run recorded.
"""
