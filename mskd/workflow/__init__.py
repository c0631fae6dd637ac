"""``mskd demo`` and ``mskd bench``: the whole pipeline as resumable, cached stages.

- :mod:`~mskd.workflow.demo` the demo command and its options;
- :mod:`~mskd.workflow.stages` the stages as data (what each reads, and its work);
- :mod:`~mskd.workflow.cache` resumable stages keyed on settings and content;
- :mod:`~mskd.workflow.bench` the side-by-side benchmark command;
- :mod:`~mskd.workflow.summary_page` the demo's ``summary.md`` and closing lines.
"""
