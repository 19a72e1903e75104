"""One entry point from "where the videos are" to a `datasets` object, for training and evaluation.

``load_video_dataset(source, split)`` accepts:
- ``"synthmotion"``: the built-in SynthMotion set in ``synthmotion_dir`` (generated there if missing);
- a folder: SynthMotion output, or a `videofolder` (``<split>/<class>/*.mp4``, or ``<class>/*.mp4`` = one
  "train" split);
- a ``.csv`` file of ``path,label`` rows (one "train" split);
- anything else: a Hub dataset name for `datasets.load_dataset`.

A SynthMotion folder is streamed by `stream_synthmotion` (its metadata.jsonl read row by row), not by
`datasets`' videofolder builder, whose streaming holds all rows of a 10 MB metadata chunk as Python
objects (~1.4 KiB per video, up to ~45 MiB) and lists every video file first (9 s for 10k videos).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import datasets

from hfvid.data.datasets import load_video_csv, load_video_folder
from hfvid.data.synthetic import SynthMotionConfig, generate_synthmotion, load_synthmotion, synthmotion_features


def load_video_dataset(
    source: str,
    split: str = "train",
    streaming: bool = False,
    decode: bool = False,
    video_column: str = "video",
    config_name: str | None = None,
    synthmotion_dir: str | os.PathLike = "data/synthmotion",
    synthmotion_config: SynthMotionConfig | None = None,
):
    """One split of ``source`` as a `datasets` Dataset (or IterableDataset when ``streaming``), whose
    ``video_column`` is a `datasets.Video` feature (``decode=False``: ``{"path", "bytes"}`` dicts, which
    `hfvid.data.decoding.VideoReader` opens without decoding anything up front)."""
    if source == "synthmotion":
        generate_synthmotion(synthmotion_dir, synthmotion_config, progress=True)
        source = os.fspath(synthmotion_dir)
    path = Path(source)
    if (path / "synthmotion.json").is_file():
        if streaming:
            return stream_synthmotion(path, split=split, decode=decode)
        return load_synthmotion(path, split=split, decode=decode)
    if path.is_dir() or path.suffix == ".csv":
        loaded = load_video_folder(path, decode=decode) if path.is_dir() else load_video_csv(path, decode=decode)
        splits = loaded if isinstance(loaded, datasets.DatasetDict) else datasets.DatasetDict(train=loaded)
        if split not in splits:
            raise ValueError(f"{source} has no split {split!r} (it has {', '.join(splits)}); a folder without split "
                             "sub-folders and a CSV are one 'train' split")  # fmt: skip
        dataset = splits[split]
    else:
        dataset = datasets.load_dataset(source, config_name, split=split, streaming=streaming)
        return dataset.cast_column(video_column, datasets.Video(decode=decode))
    # Several shards, so that several DataLoader workers (and processes) each get a share.
    return dataset.to_iterable_dataset(num_shards=max(1, min(len(dataset), 64))) if streaming else dataset


def stream_synthmotion(path: str | os.PathLike, split: str = "train", decode: bool = False) -> datasets.IterableDataset:
    """One split of a generated SynthMotion set as a streamed `datasets` IterableDataset, whose memory does
    not grow with the number of videos.

    Yields what ``load_synthmotion(path, split=split, streaming=True, decode=decode)`` yields (same rows in
    the same order, same features, one shard), but reads ``<split>/metadata.jsonl`` one line at a time.
    `datasets`' streaming videofolder (5.2) parses the metadata in 10 MB chunks and turns each whole chunk
    into Python dicts (``pa_table.to_pylist()``) that live until the chunk is used up: 0.93 KiB per video,
    plus the chunk's bytes (0.31 KiB per video) and its Arrow table (0.12 KiB per video), so ~1.4 KiB per
    video up to ~35k videos (one chunk, ~45 MiB) - measured with tracemalloc: 13.2 MiB at 10k videos,
    1.4 MiB at 1k. It also lists every file of the folder at setup (9 s for 10k videos), where the
    metadata already names them.
    """
    root = Path(path)
    manifest_path = root / "synthmotion.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else None
    if not manifest or not manifest.get("complete"):
        raise FileNotFoundError(f"{path} holds no complete SynthMotion set (see generate_synthmotion)")
    metadata = root / split / "metadata.jsonl"
    if not metadata.is_file():
        available = sorted(candidate.parent.name for candidate in root.glob("*/metadata.jsonl"))
        raise ValueError(f"{path} has no split {split!r} (it has {', '.join(available)})")
    return datasets.IterableDataset.from_generator(
        _synthmotion_rows,
        features=synthmotion_features(decode),
        gen_kwargs={"metadata_path": os.path.abspath(metadata)},
    )


def _synthmotion_rows(metadata_path: str):
    """metadata.jsonl rows, one at a time, ``file_name`` -> ``video`` (its path next to the metadata file)."""
    directory = os.path.dirname(metadata_path)
    with open(metadata_path, encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            file_name = row.pop("file_name")
            relative = os.path.normpath(file_name)
            if "://" in file_name or os.path.isabs(relative) or relative == ".." or relative.startswith(".." + os.sep):
                raise ValueError(f"{metadata_path}: file_name {file_name!r} must be a path inside its folder")
            row["video"] = os.path.join(directory, relative)
            yield row
