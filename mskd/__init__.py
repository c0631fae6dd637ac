"""mskd: distil single-eye emotion spiking students and deploy them on Loihi-class cores.

The stages live in sibling packages that install as ``mskd.train``, ``mskd.convert`` and
``mskd.deploy``; this package holds the CLI and the few pieces every stage shares: the
integer Loihi step (:mod:`mskd.loihi.lif`), errors (:mod:`mskd.errors`), atomic file writes
(:mod:`mskd.fsio`) and the data (:mod:`mskd.data`).
"""

__version__ = "0.1.0"
