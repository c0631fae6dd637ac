"""Sequence names, class/lighting spellings and clip specs: parsing and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mskd.clips import ClipSpec
from mskd.data.naming import (
    EMOTIONS,
    LIGHTINGS,
    SequenceName,
    canonical_emotion,
    canonical_lighting,
)

pytestmark = pytest.mark.unit

@pytest.mark.parametrize("text,expected", [
    ("normal", "normal"), ("Overexposure", "overexposure"), ("over", "overexposure"),
    ("low-light", "low-light"), ("low_light", "low-light"), ("LowLight", "low-light"),
    ("hdr", "HDR"), ("HDR", "HDR"),
])
def test_lighting_spellings(text: str, expected: str) -> None:
    assert canonical_lighting(text) == expected


def test_every_canonical_name_maps_to_itself() -> None:
    assert [canonical_emotion(e) for e in EMOTIONS] == list(EMOTIONS)
    assert [canonical_lighting(lt) for lt in LIGHTINGS] == list(LIGHTINGS)
    with pytest.raises(ValueError, match="boredom"):
        canonical_emotion("boredom")


@given(emotion=st.sampled_from(EMOTIONS), lighting=st.sampled_from(LIGHTINGS),
       length=st.integers(1, 999), subject=st.from_regex(r"S[0-9]{1,3}", fullmatch=True))
def test_sequence_name_round_trip(emotion: str, lighting: str, length: int, subject: str) -> None:
    name = SequenceName("0001", subject, "F", "30", "2", lighting, emotion, length, "1")
    assert SequenceName.parse(str(name)) == name


@pytest.mark.parametrize("text", ["too_few_fields", "1_S1_F_30_2_normal_happiness_xx_1",
                                  "1_S1_F_30_2_moonlight_happiness_20_1",
                                  "1_S1_F_30_2_normal_bored_20_1", "1__F_30_2_normal_happy_20_1"])
def test_bad_sequence_names_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        SequenceName.parse(text)


@given(n=st.integers(1, 8), s=st.integers(0, 6), length=st.integers(1, 60),
       seed=st.integers(0, 1000))
def test_clip_indices_stay_inside_and_step_by_s_plus_one(n, s, length, seed) -> None:
    """Drawn starts keep the whole clip inside the sequence unless it is shorter than the span."""
    clip = ClipSpec(n, s)
    assert ClipSpec.parse(str(clip)) == clip and clip.span == n + (n - 1) * s
    start = clip.draw_start(length, seed, 0, 0)
    indices = clip.indices(start, length)
    assert len(indices) == n and all(0 <= i < length for i in indices)
    if length >= clip.span:
        assert indices == [start + k * (s + 1) for k in range(n)]
    else:
        assert start == 0 and indices[-1] == length - 1


@pytest.mark.parametrize("text", ["E0-S3", "4-3", "E4S3", "E-1-S2"])
def test_bad_clip_specs_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        ClipSpec.parse(text)
