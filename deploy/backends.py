"""One call for every backend: ``run_backend("sim" | "lava" | "loihi2", net, x, ...)``.

``mskd deploy run``/``verify`` and :mod:`mskd.deploy.predict` go through it; it shows a
progress bar on a terminal and names the input file in errors.
"""

from __future__ import annotations

import sys

from mskd.errors import ConfigError

BACKENDS = ("sim", "lava", "loihi2")


def _progress_runner(label: str, total: int):
    """A rich progress bar as a ``progress(done)`` callback, plus the context to show it."""
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(transient=True, console=Console(stderr=True),
                   disable=not sys.stderr.isatty())  # a bar in a log file is noise
    task = bar.add_task(label, total=total)
    return bar, (lambda done: bar.update(task, completed=done))


def run_backend(backend: str, net, x, record, steps, device, timeout=None, input_path=None):
    """Dispatch to one backend; the CLI's ``run`` and ``verify`` both go through it."""
    import numpy as np

    from mskd.net.inputs import naming_input
    from mskd.net.spec import NetSpec

    n_layers = sum(1 for la in net.layers if not type(la).__name__ == "FlattenLayer") \
        if isinstance(net, NetSpec) else 1
    if backend == "sim":
        from mskd.sim import simulator as sim

        bar, cb = _progress_runner("sim layers", n_layers)
        with bar, naming_input(input_path):
            return sim.run(net, x, record, steps=steps, device=device, progress=cb)
    if backend in ("lava", "loihi2"):
        from mskd.deploy import lava_backend

        bar, cb = _progress_runner(f"{backend} samples", int(np.asarray(x).shape[0]))
        limit = {} if timeout is None else {"timeout": timeout}
        with bar, naming_input(input_path):
            return lava_backend.run(net, x, record, steps=steps, backend=backend, progress=cb,
                                    **limit)
    raise ConfigError(f"--backend {backend}: choose from {', '.join(BACKENDS)}")
