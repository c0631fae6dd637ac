"""Training options shared by the teacher and student commands (validated, JSON-able).

>>> TrainOptions(kind="student", data="d", out="o", alpha=1.5)
Traceback (most recent call last):
...
mskd.errors.ConfigError: --alpha 1.5 must be in [0, 1]
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from mskd.errors import ConfigError
from mskd.limits import MAX_SIDE

# The distillation terms of MSKD (names in mskd.train.losses.LOSSES), chosen on the
# selection set (docs/benchmarks/recipe-lif.md and distillation-sdnn.md).
DEFAULT_KD_TERMS: tuple[str, ...] = ("hckd_ls", "tckd")

# Options that must match to resume a run (anything that changes the trajectory).
RESUME_KEYS = ("kind", "batch_size", "lr", "seed", "clip", "size", "alpha", "tau", "gamma",
               "weight_decay", "model", "kd_terms", "grad_clip", "schedule", "label_smoothing",
               "augment", "neuron", "sparsity", "subject_fraction", "task", "va_loss")


def _default_augment() -> dict:
    from mskd.train.augment import DEFAULT_AUGMENT

    return DEFAULT_AUGMENT.to_dict()


@dataclass(frozen=True)
class TrainOptions:
    kind: str
    data: str
    out: str
    epochs: int = 10
    batch_size: int = 16
    lr: float = 3e-3
    seed: int = 0
    clip: str = "E4-S3"
    size: int = 32
    alpha: float = 0.5
    tau: float = 2.0
    gamma: float = 0.94  # learning rate x gamma every epoch (SEEN's StepLR), schedule "step"
    schedule: str = "step"  # "step": lr gamma**epoch; "cosine": lr (1 + cos(pi epoch/epochs))/2
    label_smoothing: float = 0.0  # of the classification term only
    weight_decay: float = 0.0
    grad_clip: float = 0.0  # max gradient norm; 0 = no clipping
    teacher: str | None = None
    kd_terms: tuple[str, ...] = DEFAULT_KD_TERMS  # names in mskd.train.losses.LOSSES
    resume: bool = False
    model: dict = field(default_factory=dict)  # overrides of the model config (widths)
    # per-clip augmentation ranges (mskd.train.augment.ClipAugment fields); {} = none
    augment: dict = field(default_factory=_default_augment)
    # torch intra-op threads per process. 1 by default: the per-step tensors are small, and
    # on a shared 2-core machine OpenMP spin-waits made 2 threads ~10x slower than 1 (measured).
    threads: int = 1
    # student kind: "lif" (CUBA-LIF, sampled frames) or "sdnn" (sigma-delta, every frame)
    neuron: str = "lif"
    # weight of the sigma-delta activity loss (message-count surrogate); 0 = off
    sparsity: float = 0.0
    # train on this fraction of the training subjects (the first ones of a seeded shuffle)
    subject_fraction: float = 1.0
    # "categorical" (7 classes, WAR/UAR) or "dimensional" (valence and arousal per frame,
    # CCC; kd_terms then name mskd.train.losses_va.VA_KD terms)
    task: str = "categorical"
    va_loss: str = "ccc"  # dimensional task loss: "ccc" (1 - CCC) or "mse"

    def __post_init__(self) -> None:
        if self.task == "dimensional" and tuple(self.kd_terms) == DEFAULT_KD_TERMS:
            from mskd.train.losses_va import DEFAULT_VA_TERMS

            object.__setattr__(self, "kd_terms", DEFAULT_VA_TERMS)
        if self.kind not in ("teacher", "student"):
            raise ConfigError(f"kind {self.kind!r} must be 'teacher' or 'student'")
        if not 0.0 <= self.alpha <= 1.0:
            raise ConfigError(f"--alpha {self.alpha} must be in [0, 1]")
        if self.tau <= 0:
            raise ConfigError(f"--tau {self.tau} must be > 0")
        if self.epochs < 1 or self.batch_size < 1 or not 0 < self.lr < math.inf:
            raise ConfigError("--epochs and --batch-size must be >= 1 and --lr finite and > 0")
        if self.threads < 0:
            raise ConfigError(f"--threads {self.threads} must be >= 0 (0: cores / processes)")
        if not 4 <= self.size <= MAX_SIDE:
            raise ConfigError(f"--size {self.size} must be in 4..{MAX_SIDE} pixels")
        if not all(math.isfinite(v) for v in (self.tau, self.gamma, self.weight_decay,
                                              self.grad_clip)) or self.grad_clip < 0:
            raise ConfigError("--tau, gamma, weight decay and grad clip must be finite "
                              "(grad clip >= 0)")
        self._check_task()
        self._check_model()
        if self.schedule not in ("step", "cosine"):
            raise ConfigError(f"--schedule {self.schedule!r}: expected 'step' or 'cosine'")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"--label-smoothing {self.label_smoothing} must be in [0, 1)")
        from mskd.train.augment import ClipAugment
        from mskd.train.losses import LOSSES

        ClipAugment.from_dict(self.augment)  # validates

        from mskd.train.losses_va import VA_KD

        known = list(VA_KD) if self.task == "dimensional" else \
            [k for k in sorted(LOSSES) if k != "cls"]
        unknown = [k for k in self.kd_terms if k not in known]
        if unknown:
            raise ConfigError(f"--kd {unknown}: known {self.task} terms are "
                              f"{', '.join(known)}")
        if self.kind == "student" and self.alpha > 0 and not self.teacher:
            raise ConfigError("a distilled student needs --teacher CKPT (or --alpha 0)")
        if self.neuron not in ("lif", "sdnn"):
            raise ConfigError(f"--neuron {self.neuron!r}: expected lif or sdnn")
        if self.neuron == "sdnn" and self.kind != "student":
            raise ConfigError("--neuron sdnn applies to the student")
        if not self.sparsity >= 0 or (self.sparsity and self.neuron != "sdnn"):
            raise ConfigError(f"--sparsity {self.sparsity}: must be >= 0, sigma-delta only")
        if not 0.0 < self.subject_fraction <= 1.0:
            raise ConfigError(f"--subject-fraction {self.subject_fraction} must be in (0, 1]")

    def _check_task(self) -> None:
        from mskd.train.losses_va import TASK_LOSSES
        from mskd.train.student_geometry import TASKS

        if self.task not in TASKS:
            raise ConfigError(f"--task {self.task!r}: expected one of {', '.join(TASKS)}")
        if self.va_loss not in TASK_LOSSES:
            raise ConfigError(f"--va-loss {self.va_loss!r}: expected one of "
                              f"{', '.join(TASK_LOSSES)}")

    def model_config(self) -> dict:
        """The model config the options describe (before any weight exists)."""
        cfg = {"size": self.size, **self.model}
        if self.task == "dimensional":
            from mskd.train.student_geometry import VA_OUTPUTS

            cfg.update(task="dimensional", classes=VA_OUTPUTS)
        return cfg

    def _check_model(self) -> None:
        """The model the options describe is valid and within the size limits (computed
        from the config, before any data is read or weight allocated)."""
        from mskd.train.lif_config import StudentConfig
        from mskd.train.teacher import TeacherConfig

        from mskd.clips import ClipSpec

        try:
            spec = ClipSpec.parse(self.clip)
        except ValueError as exc:
            raise ConfigError(f"--clip: {exc}") from None
        if not isinstance(self.model, dict):
            raise ConfigError(f"model overrides {self.model!r} must be a table")
        cfg = self.model_config()
        if self.kind == "student" and self.neuron == "sdnn":
            from mskd.train.sdnn_config import SdnnConfig

            SdnnConfig.from_dict({"n_frames": spec.span, **cfg})
        elif self.kind == "student":
            StudentConfig.from_dict({"n_frames": spec.n, **cfg})
        else:
            TeacherConfig.from_dict(cfg)

    def lr_at(self, epoch: int) -> float:
        """The learning rate of ``epoch`` (a pure function: resuming needs no scheduler state)."""
        if self.schedule == "cosine":
            return self.lr * 0.5 * (1.0 + math.cos(math.pi * epoch / self.epochs))
        return self.lr * self.gamma**epoch

    def to_dict(self) -> dict:
        return asdict(self)
