"""SEE names: the 7 emotion classes, the 4 lightings and the sequence-name grammar.

A SEE sequence folder is named
``[seq]_[ID]_[sex]_[age]_[degree]_[lighting]_[emotion]_[length]_[take]``. The lighting may
itself contain an underscore (``low_light``), so the name is read as five fields from the
left, three from the right, and the lighting is what lies between.

>>> name = SequenceName.parse("0007_S03_F_25_2_low_light_Happy_29_1")
>>> name.subject, name.lighting, name.emotion, name.length
('S03', 'low-light', 'happiness', 29)
>>> str(name)
'0007_S03_F_25_2_low-light_happiness_29_1'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mskd.labels import EMOTIONS

#: Canonical lighting names of SEE.
LIGHTINGS: tuple[str, ...] = ("normal", "overexposure", "low-light", "HDR")

_EMOTION_SPELLINGS = {
    "happiness": "happiness", "happy": "happiness", "joy": "happiness",
    "sadness": "sadness", "sad": "sadness",
    "anger": "anger", "angry": "anger",
    "disgust": "disgust", "disgusted": "disgust",
    "surprise": "surprise", "surprised": "surprise",
    "fear": "fear", "fearful": "fear", "afraid": "fear",
    "neutral": "neutral", "neutrality": "neutral",
}

_LIGHTING_SPELLINGS = {
    "normal": "normal", "norm": "normal",
    "overexposure": "overexposure", "overexposed": "overexposure", "over": "overexposure",
    "lowlight": "low-light", "low": "low-light", "dark": "low-light",
    "hdr": "HDR", "highdynamicrange": "HDR",
}


def canonical_emotion(text: str) -> str:
    """Canonical emotion name for ``text`` (case-insensitive); ``ValueError`` if unknown.

    >>> canonical_emotion("Surprised")
    'surprise'
    """
    key = re.sub(r"[\s_\-]", "", text.lower())
    if key not in _EMOTION_SPELLINGS:
        raise ValueError(f"unknown emotion {text!r} (expected one of {', '.join(EMOTIONS)})")
    return _EMOTION_SPELLINGS[key]


def canonical_lighting(text: str) -> str:
    """Canonical lighting name for ``text``: case, ``_``, ``-`` and spaces are ignored.

    >>> [canonical_lighting(t) for t in ["Low_Light", "lowlight", "over", "hdr"]]
    ['low-light', 'low-light', 'overexposure', 'HDR']
    """
    key = re.sub(r"[\s_\-]", "", text.lower())
    if key not in _LIGHTING_SPELLINGS:
        raise ValueError(f"unknown lighting {text!r} (expected one of {', '.join(LIGHTINGS)})")
    return _LIGHTING_SPELLINGS[key]


@dataclass(frozen=True)
class SequenceName:
    """The nine fields of a SEE sequence name, with emotion and lighting made canonical."""

    seq: str
    subject: str
    sex: str
    age: str
    degree: str
    lighting: str
    emotion: str
    length: int
    take: str

    @classmethod
    def parse(cls, text: str) -> SequenceName:
        """Read a sequence folder name; ``ValueError`` says which field is wrong."""
        parts = text.split("_")
        if len(parts) < 9 or any(not p for p in parts):
            raise ValueError(
                f"bad sequence name {text!r}: expected "
                "[seq]_[ID]_[sex]_[age]_[degree]_[lighting]_[emotion]_[length]_[take]"
            )
        seq, subject, sex, age, degree = parts[:5]
        emotion, length, take = parts[-3:]
        lighting = "_".join(parts[5:-3])
        if not length.isdigit():
            raise ValueError(f"bad sequence name {text!r}: length field {length!r} is not a number")
        return cls(seq, subject, sex, age, degree, canonical_lighting(lighting),
                   canonical_emotion(emotion), int(length), take)

    def __str__(self) -> str:
        return "_".join([self.seq, self.subject, self.sex, self.age, self.degree, self.lighting,
                         self.emotion, str(self.length), self.take])

