"""Student -> deployable netx network: quantize, fold, attach the encoding, write.

>>> import tempfile, pathlib, torch
>>> from mskd.train.student_lif import Student
>>> from mskd.train.lif_config import StudentConfig
>>> torch.manual_seed(0) and None
>>> s = Student(StudentConfig(size=8, channels=(2,), hidden=(4,), steps_per_frame=2,
...                           n_frames=2))
>>> out = pathlib.Path(tempfile.mkdtemp()) / "s.net"
>>> net = convert_student(s, out)
>>> [type(la).__name__ for la in net.spec.layers]
['InputLayer', 'ConvLayer', 'FlattenLayer', 'DenseLayer', 'DenseLayer']
>>> read_encoding(out) == net.encoding
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mskd.convert.netx_writer import write_net
from mskd.convert.quantize import fold_student
from mskd.convert.student_io import check_finite, student_encoding

from mskd.net.encoding import InputEncoding, read_encoding  # noqa: F401 - doctest
from mskd.net.spec import NetSpec


@dataclass(frozen=True)
class ConvertedNet:
    """A network in Loihi fixed point, how to feed it, and where it was written."""

    spec: NetSpec
    encoding: InputEncoding
    path: Path | None = None


def student_netspec(student, clip: str | None = None) -> ConvertedNet:
    """Fold ``student`` into a :class:`NetSpec` plus its encoding (nothing written)."""
    check_finite(student)
    return ConvertedNet(fold_student(student.quantized()), student_encoding(student, clip))


def convert_student(student, out: str | Path, clip: str | None = None) -> ConvertedNet:
    """Fold ``student`` and write it to ``out`` atomically (no file on any failure)."""
    net = student_netspec(student, clip)
    return ConvertedNet(net.spec, net.encoding, write_net(net.spec, net.encoding, out))
