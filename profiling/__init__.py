"""mskd.profiling: what a deployed network costs on the chip.

The flow, one concept per module: :mod:`~mskd.profiling.estimate` simulates and maps the
network and counts its operations (:mod:`~mskd.profiling.counts`,
:mod:`~mskd.profiling.neurobench`); :mod:`~mskd.profiling.energy`,
:mod:`~mskd.profiling.latency` and :mod:`~mskd.profiling.ann_energy` cost the counts on a
hardware profile (:mod:`mskd.hw_profiles`); :mod:`~mskd.profiling.report`,
:mod:`~mskd.profiling.report_md` and :mod:`~mskd.profiling.plots` write the report;
:mod:`~mskd.profiling.net_summary` is ``mskd summary``; :mod:`~mskd.profiling.cli` and
:mod:`~mskd.profiling.summary_cli` the commands.
"""
