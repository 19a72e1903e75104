"""Video data sets as ``datasets`` objects: unlabelled folders, class folders, `datasets` videofolders with
metadata files, lists of paths (CSV, JSONL, TXT), UCF101, HMDB51.

Every loader returns rows with a ``video`` column (``datasets.Video``: a torchcodec ``VideoDecoder``
when ``decode``, else ``{"path", "bytes"}``) and, where the layout has labels, a ``label`` column
(``datasets.ClassLabel``). `load_video_source` picks the layout of a folder or list file by itself. The
tables are built in memory from file paths (``Dataset.from_dict``): nothing is copied or cached,
and every listed file is checked to exist up front, so a bad path fails here, naming the file,
rather than mid-training.

Videos are opened by content, not by extension: the official UCF101/HMDB51 lists name ``.avi``
files, and any container FFmpeg reads (e.g. an mp4 saved under the listed ``.avi`` name) works.

API:
    VIDEO_EXTENSIONS
    load_video_source(path, decode=True) -> DatasetDict (every layout below, detected)
    load_unlabelled_videos(root, decode=True) -> Dataset
    load_video_folder(root, splits=None, decode=True) -> DatasetDict | Dataset
    load_metadata_folder(root, decode=True) -> DatasetDict
    load_video_list(path, decode=True) -> Dataset (CSV, JSONL or TXT)
    load_video_csv(csv_path, video_column="path", label_column="label", decode=True) -> Dataset
    load_ucf101(root, split_dir, fold=1, decode=True) -> DatasetDict
    load_hmdb51(root, split_dir, fold=1, decode=True) -> DatasetDict
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path

from datasets import ClassLabel, Dataset, DatasetDict, Features, Video

# Containers FFmpeg reads that hold video (files are opened by content; the suffix only finds them in folders).
VIDEO_EXTENSIONS = (
    ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".ts", ".mts", ".m2ts", ".mpg", ".mpeg", ".vob", ".flv",
    ".wmv", ".asf", ".3gp", ".3g2", ".ogv", ".ogg", ".mxf", ".y4m", ".nut", ".gif", ".m4a",
)  # fmt: skip; .m4a and .ogg are mostly audio, but may hold video: an audio-only one is reported unreadable
METADATA_FILES = ("metadata.csv", "metadata.jsonl")
LIST_SUFFIXES = (".csv", ".jsonl", ".txt")
PATH_COLUMNS = ("file_name", "path", "video")
FOLDS = (1, 2, 3)
HMDB51_SPLIT_IDS = {1: "train", 2: "test"}  # 0 = not used in this fold


def _video_dataset(paths: Sequence[Path], labels: Sequence[int] | None, class_names: Sequence[str], decode: bool) -> Dataset:
    """Rows ``{"video", "label"}``, or ``{"video"}`` alone when ``labels`` is None (unlabelled videos)."""
    if labels is None:
        return Dataset.from_dict({"video": [str(path) for path in paths]}, features=Features({"video": Video(decode=decode)}))
    features = Features({"video": Video(decode=decode), "label": ClassLabel(names=list(class_names))})
    return Dataset.from_dict({"video": [str(path) for path in paths], "label": list(labels)}, features=features)


def _is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS and not path.name.startswith(".")


def _label_ids(label_names: Sequence[str]) -> tuple[list[str], list[int]]:
    """Sorted class names (numerically when all are integers, so 0..K-1 keep their ids) and each row's id."""
    numeric = all(name.lstrip("-").isdigit() for name in label_names)
    names = sorted(set(label_names), key=int if numeric else None)
    ids = {name: label for label, name in enumerate(names)}
    return names, [ids[name] for name in label_names]


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
    """The videos directly in ``folder``; a broken link is listed too, so that a run reports it unreadable."""
    return sorted(path for path in folder.iterdir() if not path.is_dir() and _is_video(path))


def _all_videos(root: Path) -> list[Path]:
    """Every video under ``root``, at any depth (hidden files and folders skipped), sorted."""
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found.extend(Path(folder) / name for name in files if _is_video(Path(name)))
    return sorted(found)


def load_unlabelled_videos(root: str | os.PathLike, decode: bool = True) -> Dataset:
    """Every video under ``root`` (flat or in nested sub-folders, any depth), as rows ``{"video"}`` without labels."""
    root = Path(root).absolute()
    if not root.is_dir():
        raise FileNotFoundError(f"video folder {root} not found")
    videos = _all_videos(root)
    if not videos:
        raise FileNotFoundError(f"no videos ({', '.join(VIDEO_EXTENSIONS)}) found under {root}")
    return _video_dataset(videos, None, [], decode)


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
    names, label_ids = _label_ids(label_names)
    return _video_dataset(paths, label_ids, names, decode)


def _list_rows(path: Path) -> list[tuple[str, dict]]:
    """(origin "file:line", row) of a CSV (with a header), JSONL (one object per line) or TXT ("<path> [label]")."""
    if not path.is_file():
        raise FileNotFoundError(f"video list {path} not found")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with open(path, newline="") as csv_file:
            return [(f"{path}:{line}", row) for line, row in enumerate(csv.DictReader(csv_file), start=2)]
    rows = []
    for line, text in enumerate(path.read_text().splitlines(), start=1):
        if not text.strip():
            continue
        if suffix == ".jsonl":
            try:
                row = json.loads(text)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{line}: not a JSON object ({error.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{line}: expected a JSON object, got {text[:60]!r}")
        else:
            fields = text.split()
            if len(fields) > 2:
                raise ValueError(f"{path}:{line}: expected '<path> [label]', got {text!r}")
            row = {"path": fields[0], **({"label": fields[1]} if len(fields) == 2 else {})}
        rows.append((f"{path}:{line}", row))
    return rows


def _resolve_rows(rows: list[tuple[str, dict]], base: Path, source: Path) -> tuple[list[Path], list[str] | None]:
    """The videos that rows name (``file_name``, ``path`` or ``video``, relative to ``base``), checked to exist,
    and their labels (None when no row has one; an error when only some have)."""
    if not rows:
        raise ValueError(f"{source} lists no videos")
    paths, label_names, origins = [], [], []
    for origin, row in rows:
        column = next((c for c in PATH_COLUMNS if c in row), None)
        if column is None or not str(row[column] or "").strip():
            raise ValueError(f"{origin}: no video path (a {' / '.join(PATH_COLUMNS)} field) in {row}")
        video = str(row[column]).strip()
        paths.append(Path(video) if os.path.isabs(video) else (base / video).absolute())
        label_names.append(None if row.get("label") in (None, "") else str(row["label"]).strip())
        origins.append(origin)
    _require_files(paths, origins)
    labelled = [name is not None for name in label_names]
    if any(labelled) and not all(labelled):
        raise ValueError(f"{origins[labelled.index(False)]}: this row has no label but others have: label every video or none")
    return paths, label_names if any(labelled) else None


def load_video_list(path: str | os.PathLike, decode: bool = True) -> Dataset:
    """A list of videos: CSV with a header (a ``path``, ``file_name`` or ``video`` column, ``label`` optional),
    JSONL (one object per line, the same keys) or TXT (``<path> [label]`` per line). Relative paths are
    resolved against the list's folder; without labels the rows are ``{"video"}`` only."""
    path = Path(path)
    paths, label_names = _resolve_rows(_list_rows(path), path.parent, path)
    if label_names is None:
        return _video_dataset(paths, None, [], decode)
    names, ids = _label_ids(label_names)
    return _video_dataset(paths, ids, names, decode)


def load_metadata_folder(root: str | os.PathLike, decode: bool = True) -> DatasetDict:
    """A `datasets` videofolder with metadata files: ``root/metadata.{csv,jsonl}`` (one "train" split) or
    ``root/<split>/metadata.{csv,jsonl}``; each row names its video in ``file_name`` (relative to the metadata
    file's folder); of the other columns only ``label`` is used. Label ids are shared by all splits."""
    root = Path(root).absolute()
    folders = {"train": root} if any((root / name).is_file() for name in METADATA_FILES) else {}
    for child in sorted(root.iterdir()):
        if child.is_dir() and any((child / name).is_file() for name in METADATA_FILES):
            folders[child.name] = child
    if not folders:
        raise FileNotFoundError(f"no {' or '.join(METADATA_FILES)} in {root} or its split folders")
    resolved = {}
    for split, folder in folders.items():
        metadata = next(folder / name for name in METADATA_FILES if (folder / name).is_file())
        resolved[split] = _resolve_rows(_list_rows(metadata), folder, metadata)
    labelled = {split: labels is not None for split, (_, labels) in resolved.items()}
    if len(set(labelled.values())) > 1:
        raise ValueError(f"{root}: label every split's videos or none, got labels in {labelled}")
    if not any(labelled.values()):
        return DatasetDict({split: _video_dataset(paths, None, [], decode) for split, (paths, _) in resolved.items()})
    names, _ = _label_ids([name for _, labels in resolved.values() for name in labels])
    ids = {name: label for label, name in enumerate(names)}
    return DatasetDict(
        {split: _video_dataset(paths, [ids[n] for n in labels], names, decode) for split, (paths, labels) in resolved.items()}
    )


def load_video_source(path: str | os.PathLike, decode: bool = True) -> DatasetDict:
    """Any local layout, detected, as a DatasetDict of its splits (a layout without splits is one "train" split):

    - a list file (``.csv``, ``.jsonl``, ``.txt``): `load_video_list`;
    - a folder with ``metadata.csv`` / ``metadata.jsonl`` (at its root or in split folders): `load_metadata_folder`;
    - videos only in ``root/<class>/`` or only in ``root/<split>/<class>/``: `load_video_folder` (labels = folders);
    - anything else (videos directly in the folder, or nested at other depths): `load_unlabelled_videos`.
    """
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() not in LIST_SUFFIXES:
            raise ValueError(f"{path}: a video list must be {', '.join(LIST_SUFFIXES)}; for one video pass its folder")
        return DatasetDict(train=load_video_list(path, decode=decode))
    if not path.is_dir():
        raise FileNotFoundError(f"no video folder or list at {path}")
    if any((path / name).is_file() for name in METADATA_FILES) or any(
        (child / name).is_file() for child in path.iterdir() if child.is_dir() for name in METADATA_FILES
    ):
        return load_metadata_folder(path, decode=decode)
    depths = {len(video.relative_to(path.absolute()).parts) for video in _all_videos(path.absolute())}
    if depths and depths <= {2, 3} and 1 not in depths:  # root/<class>/v or root/<split>/<class>/v
        loaded = load_video_folder(path, decode=decode)
        return loaded if isinstance(loaded, DatasetDict) else DatasetDict(train=loaded)
    return DatasetDict(train=load_unlabelled_videos(path, decode=decode))


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
