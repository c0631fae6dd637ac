"""What a network's outputs mean, shared by every stage: SEE's emotion classes in label
order, and the dimensional outputs (valence, arousal).

>>> class_names(7)[:2], class_names(2)
(('happiness', 'sadness'), ('class0', 'class1'))
"""

from __future__ import annotations

#: Class order of SEE; a label is an index into this tuple.
EMOTIONS: tuple[str, ...] = (
    "happiness", "sadness", "anger", "disgust", "surprise", "fear", "neutral")

#: The outputs of a dimensional (``--task dimensional``) network, in this order.
DIMENSIONS: tuple[str, ...] = ("valence", "arousal")


def class_names(n: int) -> tuple[str, ...]:
    """SEE's seven emotions when there are seven classes, else ``class0..``."""
    return tuple(EMOTIONS) if n == len(EMOTIONS) else tuple(f"class{i}" for i in range(n))
