"""Per-frame labels from the usual layouts of action-segmentation data sets, as a `datasets` Sequence column.

Two file formats, one file per video named after it (``<labels_dir>/<video file stem>.txt``):

- a label per frame, one per line (MS-TCN's ``groundTruth/`` of Breakfast, 50Salads, GTEA);
- segments, one per line: ``start end label`` or ``start-end label`` (frame numbers, ``end`` inclusive; Breakfast's
  ``.coarse`` files); by default frames count from 1 (Breakfast's), ``first_frame=0`` for files that count from 0.

Class names map to ids through a mapping file (MS-TCN's ``mapping.txt``: ``<id> <name>`` per line) or, without one, in
sorted order of the names found. `add_frame_labels` adds the column to a data set of videos; every error names the
file and the line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import datasets

_SEGMENT = re.compile(r"^\s*(\d+)\s*(?:-|\s)\s*(\d+)\s+(\S.*?)\s*$")


def read_mapping(path: str | os.PathLike) -> list[str]:
    """Class names in id order from an ``<id> <name>`` per line file; ValueError naming the line that is not one."""
    names: dict[int, str] = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or not parts[0].isdigit():
            raise ValueError(f"{path}, line {number}: expected '<id> <name>', got {line!r}")
        names[int(parts[0])] = parts[1].strip()
    if sorted(names) != list(range(len(names))):
        raise ValueError(f"{path}: ids must be 0..{len(names) - 1}, got {sorted(names)}")
    return [names[i] for i in range(len(names))]


def read_frame_labels(path: str | os.PathLike, first_frame: int = 1) -> list[str]:
    """One label name per frame from a file of either format (segments when every line is ``start end label``)."""
    lines = [line for line in Path(path).read_text().splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"{path}: no labels")
    matches = [_SEGMENT.match(line) for line in lines]
    if not all(matches):
        return [line.strip() for line in lines]
    labels: list[str | None] = []
    for number, match in enumerate(matches, 1):
        start, end, name = int(match[1]) - first_frame, int(match[2]) - first_frame, match[3]
        if start < 0 or end < start:
            raise ValueError(f"{path}, line {number}: segment {match[1]}-{match[2]} is empty or starts before frame {first_frame}")
        labels.extend([None] * (end + 1 - len(labels)))
        for frame in range(start, end + 1):
            labels[frame] = name
    gaps = [frame + first_frame for frame, name in enumerate(labels) if name is None]
    if gaps:
        raise ValueError(f"{path}: frames {gaps[:5]}{'...' if len(gaps) > 5 else ''} are in no segment")
    return labels


def add_frame_labels(dataset, labels_dir: str | os.PathLike, column: str = "phases", video_column: str = "video",
                     mapping: str | os.PathLike | None = None, first_frame: int = 1):  # fmt: skip
    """``dataset`` (whose ``video_column`` holds `datasets.Video` values or paths) with a ``column`` of per-frame
    class ids (a Sequence of ClassLabel), read from ``<labels_dir>/<video stem>.txt``. FileNotFoundError naming the
    video whose label file is missing; ValueError for a label the mapping lacks."""
    labels_dir = Path(labels_dir)
    readable = dataset
    if isinstance(dataset.features.get(video_column), datasets.Video):  # paths, not decoded videos
        readable = dataset.cast_column(video_column, datasets.Video(decode=False))
    videos = readable[video_column]
    per_video = []
    for video in videos:
        path = Path(video["path"] if isinstance(video, dict) else video)
        label_file = labels_dir / f"{path.stem}.txt"
        if not label_file.is_file():
            raise FileNotFoundError(f"no frame labels for {path.name}: expected {label_file}")
        per_video.append((label_file, read_frame_labels(label_file, first_frame)))
    names = read_mapping(mapping) if mapping is not None else sorted({name for _, labels in per_video for name in labels})
    ids = {name: index for index, name in enumerate(names)}
    rows = []
    for label_file, labels in per_video:
        unknown = sorted(set(labels) - set(ids))
        if unknown:
            raise ValueError(f"{label_file}: labels {unknown} are not in the mapping {mapping}")
        rows.append([ids[name] for name in labels])
    feature = datasets.Sequence(datasets.ClassLabel(names=names))
    return dataset.add_column(column, rows, feature=feature)
