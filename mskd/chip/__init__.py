"""What fits on the chip: core mapping, design rules and register widths.

- :mod:`~mskd.chip.synapses` structural synapses of each layer, counted exactly;
- :mod:`~mskd.chip.mapping` layers split onto cores within a hardware profile's limits;
- :mod:`~mskd.chip.rules` design rules as small named predicates;
- :mod:`~mskd.chip.widths` recorded values against the chip's register and message widths.

Conversion checks a network against these before writing it; ``mskd summary`` and the
profile report the same mapping.
"""
