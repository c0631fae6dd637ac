"""Synthetic single-eye emotion dataset in the SEE layout (the embedded default).

For every subject, emotion, lighting and take one sequence is rendered at ``RENDER_HZ``
(:mod:`mskd.data.eye`, motion from :mod:`mskd.data.expressions`), then:

* intensity frame ``k`` (30 FPS) = mean of the ``RENDER_HZ / FPS`` sub-frames in
  ``(t_k - 33 ms, t_k]`` (the exposure, which blurs fast motion), quantised to 8 bits;
* annotation of frame ``k`` = valence and arousal over the same window, derived from
  the rendered motion (:func:`mskd.data.affect.synthetic_affect`, ``annotation/``);
* event frame ``k`` = ON/OFF counts of the events in the same window from the event model
  (:mod:`mskd.data.events`, config :data:`EVENT_CAMERA`) run on the 240 Hz video. The
  render starts two frames early: the first window absorbs the start-up of the emulator
  (references all set at once) and is dropped, the second is the exposure of frame 0.

Subjects are split subject-disjointly (``test_fraction`` of them, at least one, to test).
The folder gets ``frame/``, ``event/``, ``annotation/``, ``split.json`` and
``dataset.json`` (generator version and settings). Output is bit-identical for the same
settings and seed, whatever ``workers`` is, because each subject draws from its own
generator seeded by ``(seed, subject)``. Writing goes through :func:`mskd.fsio.atomic_dir`.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mskd.clips import mix_seed
from mskd.data.affect import annotation_path, format_csv, subject_affect, synthetic_affect
from mskd.data.events import EventCameraConfig, accumulate, simulate
from mskd.data.expressions import expression
from mskd.data.eye import Lighting, Subject, light, render
from mskd.data.imageio import FRAME_NAME, encode_event_frame, jpeg_bytes
from mskd.data.naming import EMOTIONS, LIGHTINGS
from mskd.errors import ConfigError, DataError
from mskd.fsio import atomic_dir, write_json

SYNTH_VERSION = 2  # 2: per-frame valence/arousal annotations (frames and events as in 1)
FPS = 30
RENDER_HZ = 240
SUB = RENDER_HZ // FPS  # rendered sub-frames per frame
#: Event camera of the synthetic set: one sub-step per rendered sub-frame.
EVENT_CAMERA = EventCameraConfig(pos_threshold=0.2, neg_threshold=0.2, threshold_sigma=0.03,
                                 refractory_us=1000.0, leak_rate_hz=0.2,
                                 shot_noise_rate_hz=0.5, upsample_rate_hz=float(RENDER_HZ))


@dataclass(frozen=True)
class SynthSettings:
    """Everything that determines the output bytes (written to dataset.json)."""

    subjects: int = 24
    seed: int = 0
    size: int = 48
    takes: int = 1
    min_length: int = 18
    max_length: int = 40
    test_fraction: float = 1 / 3

    def __post_init__(self) -> None:
        if self.subjects < 2:
            raise ConfigError(f"--subjects must be >= 2 (one train, one test), got {self.subjects}")
        if not 8 <= self.size <= 512:
            raise ConfigError(f"--size must be in 8..512, got {self.size}")
        if self.takes < 1:
            raise ConfigError(f"--takes must be >= 1, got {self.takes}")
        if not 1 <= self.min_length <= self.max_length:
            raise ConfigError(f"sequence lengths need 1 <= min <= max, got "
                              f"{self.min_length}..{self.max_length}")
        if not 0.0 < self.test_fraction < 1.0:
            raise ConfigError(f"test_fraction must be in (0, 1), got {self.test_fraction}")


def _subject_sequences(settings: SynthSettings, subject_index: int) -> list[tuple]:
    """Render all sequences of one subject: (emotion, name, frame JPGs, event JPGs,
    annotation CSV)."""
    rng = np.random.default_rng(mix_seed(settings.seed, subject_index))
    subject = Subject.sample(rng)
    sex, age = str(rng.choice(["F", "M"])), int(rng.integers(18, 61))
    jobs = [(e, lt, take) for e in EMOTIONS for lt in LIGHTINGS
            for take in range(1, settings.takes + 1)]
    lengths = rng.integers(settings.min_length, settings.max_length + 1, len(jobs))
    n_sub = SUB * (int(lengths.max()) + 1) + 1
    gain, _, offsets = subject_affect(settings.seed, subject_index, len(jobs))
    videos, affect = [], []
    for j, ((emotion, lighting, _), length) in enumerate(zip(jobs, lengths, strict=True)):
        parts: dict = {}
        traj = expression(emotion, SUB * (int(length) + 1) + 1, RENDER_HZ, rng, parts)
        affect.append(synthetic_affect(emotion, parts, RENDER_HZ, SUB, int(length), gain,
                                       offsets[j]))
        video = light(render(subject, traj, settings.size), Lighting.sample(lighting, rng), rng)
        pad = np.repeat(video[-1:], n_sub - len(video), axis=0)  # static tail: noise only
        videos.append(np.concatenate([video, pad]))
    on, off = _event_counts(videos, int(lengths.max()), rng)
    out = []
    for j, ((emotion, lighting, take), length) in enumerate(zip(jobs, lengths, strict=True)):
        frames = videos[j][1:1 + SUB * (length + 1)].reshape(length + 1, SUB, *videos[j].shape[1:])
        frames = np.rint(frames.mean(axis=1)[1:] * 255.0).astype(np.uint8)
        name = (f"{subject_index * len(jobs) + j:05d}_S{subject_index:03d}_{sex}_{age}_1_"
                f"{lighting}_{emotion}_{length}_{take}")
        sl = slice(j * settings.size, (j + 1) * settings.size)
        out.append((emotion, name, [jpeg_bytes(f) for f in frames],
                    [jpeg_bytes(encode_event_frame(a, b)) for a, b in
                     zip(on[2:length + 2, :, sl], off[2:length + 2, :, sl], strict=True)],
                    format_csv(affect[j])))
    return out


def _event_counts(videos: list[np.ndarray], max_length: int, rng: np.random.Generator):
    """Run the event model once on all videos side by side (pixels are independent)."""
    wide = np.concatenate(videos, axis=2)
    times = np.arange(len(wide)) * (1e6 / RENDER_HZ)
    stream = simulate(wide, times, EVENT_CAMERA, seed=int(rng.integers(2**31)))
    frame_times = np.arange(max_length + 2) * SUB * (1e6 / RENDER_HZ)
    return accumulate(stream, frame_times, wide.shape[1:], window_us=1e6 / FPS)


def _split(settings: SynthSettings) -> dict[str, list[int]]:
    rng = np.random.default_rng(mix_seed(settings.seed, 2**31 - 1))
    order = rng.permutation(settings.subjects)
    n_test = max(1, int(round(settings.subjects * settings.test_fraction)))
    return {"train": sorted(order[n_test:].tolist()), "test": sorted(order[:n_test].tolist())}


def _rendered(settings: SynthSettings, workers: int) -> Iterator[list]:
    indices = range(settings.subjects)
    if workers <= 1:
        yield from (_subject_sequences(settings, i) for i in indices)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_subject_job, [(settings, i) for i in indices])


def _subject_job(args: tuple[SynthSettings, int]) -> list:
    return _subject_sequences(*args)


def synthesize(out: str | Path, subjects: int = 24, seed: int = 0, size: int = 48, *,
               takes: int = 1, min_length: int = 18, max_length: int = 40,
               overwrite: bool = False, workers: int = 1, progress: bool = False) -> Path:
    """Write a synthetic SEE-layout dataset to ``out`` and return its path."""
    settings = SynthSettings(subjects, seed, size, takes, min_length, max_length)
    if Path(out).exists() and not overwrite:
        raise DataError(f"{out}: already exists (pass --overwrite to replace it)")
    split_subjects = _split(settings)
    test_set = set(split_subjects["test"])
    split: dict[str, list[str]] = {"train": [], "test": []}
    with atomic_dir(out, overwrite=overwrite) as tmp, _Progress(progress, subjects) as bar:
        for index, sequences in enumerate(_rendered(settings, workers)):
            for emotion, name, frames, events, annotation in sequences:
                for modality, files in (("frame", frames), ("event", events)):
                    folder = tmp / modality / emotion / name
                    folder.mkdir(parents=True)
                    for k, data in enumerate(files):
                        (folder / FRAME_NAME.format(k)).write_bytes(data)
                csv_path = annotation_path(tmp, f"{emotion}/{name}")
                csv_path.parent.mkdir(parents=True, exist_ok=True)
                csv_path.write_text(annotation)
                split["test" if index in test_set else "train"].append(f"{emotion}/{name}")
            bar.advance()
        write_json(tmp / "split.json", split)
        write_json(tmp / "dataset.json", _manifest(settings, split_subjects))
    return Path(out)


def _manifest(settings: SynthSettings, split_subjects: dict) -> dict:
    return {"generator": "mskd.data.synth", "version": SYNTH_VERSION, "settings": asdict(settings),
            "fps": FPS, "render_hz": RENDER_HZ, "event_camera": EVENT_CAMERA.to_dict(),
            "emotions": list(EMOTIONS), "lightings": list(LIGHTINGS),
            "split_subjects": split_subjects}


class _Progress:
    """A rich progress bar over subjects (a no-op when disabled); stops on errors too."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total, self.bar = enabled, total, None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True),  # stdout is for results
                                disable=not sys.stderr.isatty())  # no bar in logs
            self.bar.start()
            self.task = self.bar.add_task("rendering subjects", total=self.total)
        return self

    def advance(self) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
