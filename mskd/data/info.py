"""Summary of a SEE-layout dataset: class counts per split and lighting, lengths, image size.

>>> summary = {"root": "d", "sequences": 0, "frames": 0, "image_size": None,
...            "length": {"min": 0, "mean": 0.0, "max": 0}, "splits": {}, "skipped": []}
>>> table_rows(summary)
[]
"""

from __future__ import annotations

from pathlib import Path

from mskd.data.imageio import read_frame
from mskd.data.naming import EMOTIONS, LIGHTINGS
from mskd.data.scan import scan_dataset


def summarize(root: str | Path, split_file: str | Path | None = None) -> dict:
    """Counts of a dataset as a JSON-ready dict (decodes one frame for the image size).

    ``splits`` maps split -> lighting -> emotion -> count; sequences in no split are listed
    under ``"unsplit"``. Without a split file every sequence is ``"unsplit"``.
    """
    scan = scan_dataset(root, split_file, require_split=False)
    records = scan.sequences
    assigned = {k: s for s, keys in scan.splits.items() for k in keys}
    splits: dict[str, dict[str, dict[str, int]]] = {}
    for key, record in records.items():
        split = assigned.get(key, "unsplit")
        by_light = splits.setdefault(split, {lt: dict.fromkeys(EMOTIONS, 0) for lt in LIGHTINGS})
        by_light[record.name.lighting][record.name.emotion] += 1
    order = {"train": 0, "test": 1, "unsplit": 2}
    splits = dict(sorted(splits.items(), key=lambda item: order[item[0]]))
    from mskd.data.affect import annotation_path

    annotated = sum(annotation_path(scan.root, k).is_file() for k in records)
    lengths = [r.length for r in records.values()]
    size = None
    if records:
        first = next(iter(records.values()))
        size = list(read_frame(first.frame_dir / first.files[0]).shape)
    return {
        "root": str(scan.root), "sequences": len(records), "frames": sum(lengths),
        "image_size": size,
        "length": {"min": min(lengths, default=0), "max": max(lengths, default=0),
                   "mean": round(sum(lengths) / len(lengths), 2) if lengths else 0.0},
        "splits": splits, "skipped": scan.skipped,
        "annotated": annotated,  # sequences with a valence/arousal CSV (dimensional task)
    }


def table_rows(summary: dict) -> list[list[str]]:
    """Rows ``[split, lighting, count per emotion..., total]`` for the printed table."""
    rows = []
    for split, by_light in summary["splits"].items():
        for lighting, counts in by_light.items():
            values = [counts[e] for e in EMOTIONS]
            rows.append([split, lighting, *map(str, values), str(sum(values))])
    return rows
