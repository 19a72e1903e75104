"""Video classification data sets as ``datasets`` objects: class folders, CSV files, UCF101, HMDB51.

Every loader returns rows with a ``video`` column (``datasets.Video``: a torchcodec ``VideoDecoder``
when ``decode``, else ``{"path", "bytes"}``) and a ``label`` column (``datasets.ClassLabel``). The
tables are built in memory from file paths (``Dataset.from_dict``): nothing is copied or cached,
and every listed file is checked to exist up front, so a bad path fails here, naming the file,
rather than mid-training.

Videos are opened by content, not by extension: the official UCF101/HMDB51 lists name ``.avi``
files, and any container FFmpeg reads (e.g. an mp4 saved under the listed ``.avi`` name) works.

API:
    VIDEO_EXTENSIONS
    load_video_folder(root, splits=None, decode=True) -> DatasetDict | Dataset
    load_video_csv(csv_path, video_column="path", label_column="label", decode=True) -> Dataset
    load_ucf101(root, split_dir, fold=1, decode=True) -> DatasetDict
    load_hmdb51(root, split_dir, fold=1, decode=True) -> DatasetDict
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

from datasets import ClassLabel, Dataset, DatasetDict, Features, Video

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov")
FOLDS = (1, 2, 3)
HMDB51_SPLIT_IDS = {1: "train", 2: "test"}  # 0 = not used in this fold


def _video_dataset(paths: Sequence[Path], labels: Sequence[int], class_names: Sequence[str], decode: bool) -> Dataset:
    features = Features({"video": Video(decode=decode), "label": ClassLabel(names=list(class_names))})
    return Dataset.from_dict({"video": [str(path) for path in paths], "label": list(labels)}, features=features)


def _require_files(paths: Sequence[Path], origins: Sequence[str]) -> None:
    """Raise FileNotFoundError naming the missing videos and where each was listed."""
    missing = [f"{path} (listed at {origin})" for path, origin in zip(paths, origins) if not path.is_file()]
    if missing:
        shown = "\n  ".join(missing[:5]) + ("\n  ..." if len(missing) > 5 else "")
        raise FileNotFoundError(f"{len(missing)} of {len(paths)} listed videos not found:\n  {shown}")


def _read_lines(path: Path) -> list[tuple[int, list[str]]]:
    """(1-based line number, whitespace-split fields) of every non-blank line; CRLF-safe."""
    if not path.is_file():
        raise FileNotFoundError(f"split file {path} not found")
    with open(path) as lines:
        return [(number, line.split()) for number, line in enumerate(lines, start=1) if line.strip()]


# ----------------------------------------------------------------------------- folders


def _videos_in(folder: Path) -> list[Path]:
    return sorted(
        path for path in folder.iterdir()
        if path.is_file() and path.suffix.lower() in VIDEO_EXTENSIONS and not path.name.startswith(".")
    )  # fmt: skip


def _class_folders(folder: Path) -> dict[str, list[Path]]:
    """Class name -> its videos, for every sub-folder of ``folder`` holding videos directly."""
    classes = {}
    for child in sorted(folder.iterdir()):
        if child.is_dir() and not child.name.startswith("."):
            videos = _videos_in(child)
            if videos:
                classes[child.name] = videos
    return classes


def load_video_folder(
    root: str | os.PathLike, splits: Sequence[str] | None = None, decode: bool = True
) -> DatasetDict | Dataset:
    """Load ``root/<class>/<video>`` as one Dataset, or ``root/<split>/<class>/<video>`` as a
    DatasetDict (only ``splits`` if given). Videos are the files with a VIDEO_EXTENSIONS suffix
    (any case) directly in a class folder; the label is a ClassLabel of the sorted class names,
    shared by all splits found (so label ids agree across splits even if a split lacks a class).
    """
    root = Path(root).absolute()
    if not root.is_dir():
        raise FileNotFoundError(f"video folder {root} not found")
    classes = _class_folders(root)
    split_classes = {
        child.name: _class_folders(child)
        for child in sorted(root.iterdir())
        if child.is_dir() and child.name not in classes and not child.name.startswith(".")
    }
    split_classes = {split: found for split, found in split_classes.items() if found}
    if classes and split_classes:
        raise ValueError(
            f"{root} mixes class folders with videos ({sorted(classes)}) and split folders of class "
            f"folders ({sorted(split_classes)}); use root/<class>/ or root/<split>/<class>/"
        )
    if not classes and not split_classes:
        raise FileNotFoundError(
            f"no videos ({', '.join(VIDEO_EXTENSIONS)}) found in {root}/<class>/ or {root}/<split>/<class>/"
        )

    if classes:
        if splits is not None:
            raise ValueError(f"{root} holds class folders, not split folders, so splits={list(splits)} cannot apply")
        names = sorted(classes)
        paths = [path for name in names for path in classes[name]]
        labels = [label for label, name in enumerate(names) for _ in classes[name]]
        return _video_dataset(paths, labels, names, decode)

    wanted = list(split_classes) if splits is None else list(splits)
    unknown = [split for split in wanted if split not in split_classes]
    if unknown:
        raise FileNotFoundError(f"split folder(s) {unknown} not found in {root} (found {sorted(split_classes)})")
    names = sorted({name for found in split_classes.values() for name in found})
    dataset = DatasetDict()
    for split in wanted:
        found = split_classes[split]
        paths = [path for name in names for path in found.get(name, [])]
        labels = [label for label, name in enumerate(names) for _ in found.get(name, [])]
        dataset[split] = _video_dataset(paths, labels, names, decode)
    return dataset


# ----------------------------------------------------------------------------- CSV


def load_video_csv(
    csv_path: str | os.PathLike, video_column: str = "path", label_column: str = "label", decode: bool = True
) -> Dataset:
    """Load a CSV with a header and one row per video (``path,label`` by default).

    Relative paths are resolved against the CSV's folder. The label is a ClassLabel of the sorted
    label names; labels that are all integers are sorted numerically, so 0..K-1 keep their ids.
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise FileNotFoundError(f"CSV file {csv_path} not found")
    with open(csv_path, newline="") as csv_file:
        reader = csv.DictReader(csv_file)
        columns = reader.fieldnames or []
        if video_column not in columns or label_column not in columns:
            raise ValueError(
                f"{csv_path} needs columns {video_column!r} and {label_column!r}; its header has {columns}"
            )
        rows = list(reader)
    if not rows:
        raise ValueError(f"{csv_path} lists no videos")
    paths, label_names, origins = [], [], []
    for line, row in enumerate(rows, start=2):
        video, label = (row[video_column] or "").strip(), (row[label_column] or "").strip()
        if not video or not label:
            raise ValueError(f"{csv_path}:{line}: empty {video_column!r} or {label_column!r} in {row}")
        paths.append(Path(video) if os.path.isabs(video) else (csv_path.parent / video).absolute())
        label_names.append(label)
        origins.append(f"{csv_path}:{line}")
    _require_files(paths, origins)
    numeric = all(name.lstrip("-").isdigit() for name in label_names)
    names = sorted(set(label_names), key=int if numeric else None)
    label_ids = {name: label for label, name in enumerate(names)}
    return _video_dataset(paths, [label_ids[name] for name in label_names], names, decode)


# ----------------------------------------------------------------------------- UCF101 / HMDB51


def _check_fold(fold: int) -> None:
    if fold not in FOLDS:
        raise ValueError(f"fold must be one of {FOLDS}, got {fold!r}")


def load_ucf101(
    root: str | os.PathLike, split_dir: str | os.PathLike, fold: int = 1, decode: bool = True
) -> DatasetDict:
    """UCF101 with its official split lists (``ucfTrainTestlist``): ``classInd.txt`` ("1 ApplyEyeMakeup"),
    ``trainlist0{fold}.txt`` ("ApplyEyeMakeup/v_..._g08_c01.avi 1") and ``testlist0{fold}.txt``
    ("ApplyEyeMakeup/v_..._g01_c01.avi"); videos at ``root/<listed path>``. Labels follow
    classInd.txt (id 1 -> label 0); a train line's id must match its class folder.
    """
    _check_fold(fold)
    root, split_dir = Path(root).absolute(), Path(split_dir)
    class_file = split_dir / "classInd.txt"
    indexed = {}
    for line, fields in _read_lines(class_file):
        if len(fields) != 2 or not fields[0].isdigit():
            raise ValueError(f"{class_file}:{line}: expected '<id> <ClassName>', got {' '.join(fields)!r}")
        indexed[int(fields[0])] = fields[1]
    if sorted(indexed) != list(range(1, len(indexed) + 1)):
        raise ValueError(f"{class_file}: class ids must be 1..N, got {sorted(indexed)}")
    names = [indexed[index] for index in range(1, len(indexed) + 1)]
    label_of = {name: label for label, name in enumerate(names)}

    dataset = DatasetDict()
    for split, list_name in (("train", f"trainlist0{fold}.txt"), ("test", f"testlist0{fold}.txt")):
        list_file = split_dir / list_name
        paths, labels, origins = [], [], []
        for line, fields in _read_lines(list_file):
            relative = fields[0].replace("\\", "/")
            class_name = relative.split("/")[0]
            if class_name not in label_of:
                raise ValueError(f"{list_file}:{line}: class folder {class_name!r} is not in {class_file}")
            if len(fields) > 1 and fields[1] != str(label_of[class_name] + 1):
                raise ValueError(f"{list_file}:{line}: class id {fields[1]} does not match folder {class_name!r}")
            paths.append(root / relative)
            labels.append(label_of[class_name])
            origins.append(f"{list_file}:{line}")
        if not paths:
            raise ValueError(f"{list_file} lists no videos")
        _require_files(paths, origins)
        dataset[split] = _video_dataset(paths, labels, names, decode)
    return dataset


def load_hmdb51(
    root: str | os.PathLike, split_dir: str | os.PathLike, fold: int = 1, decode: bool = True
) -> DatasetDict:
    """HMDB51 with its official split files (``testTrainMulti_7030_splits``): one
    ``<class>_test_split{fold}.txt`` per class, lines "<video.avi> <id>" with 1 = train, 2 = test,
    0 = unused; videos at ``root/<class>/<video>``. Labels: sorted class names.
    """
    _check_fold(fold)
    root, split_dir = Path(root).absolute(), Path(split_dir)
    suffix = f"_test_split{fold}.txt"
    split_files = sorted(split_dir.glob(f"*{suffix}")) if split_dir.is_dir() else []
    if not split_files:
        raise FileNotFoundError(f"no HMDB51 split files '*{suffix}' found in {split_dir}")
    names = sorted(path.name[: -len(suffix)] for path in split_files)
    entries = {split: ([], [], []) for split in HMDB51_SPLIT_IDS.values()}  # paths, labels, origins
    for label, name in enumerate(names):
        split_file = split_dir / f"{name}{suffix}"
        for line, fields in _read_lines(split_file):
            if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
                raise ValueError(f"{split_file}:{line}: expected '<video> <0|1|2>', got {' '.join(fields)!r}")
            split = HMDB51_SPLIT_IDS.get(int(fields[1]))
            if split is not None:
                paths, labels, origins = entries[split]
                paths.append(root / name / fields[0])
                labels.append(label)
                origins.append(f"{split_file}:{line}")
    dataset = DatasetDict()
    for split, (paths, labels, origins) in entries.items():
        if not paths:
            raise ValueError(f"the split files in {split_dir} put no video in {split} for fold {fold}")
        _require_files(paths, origins)
        dataset[split] = _video_dataset(paths, labels, names, decode)
    return dataset
