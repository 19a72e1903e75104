"""One entry point from "where the videos are" to a `datasets` object, for training and evaluation.

``load_video_dataset(source, split)`` accepts:
- ``"synthmotion"``: the built-in SynthMotion set in ``synthmotion_dir`` (generated there if missing);
- a local folder or list file, in any layout `hfvid.data.datasets.load_video_source` detects: unlabelled videos
  (flat or nested), class folders, split/class folders, a `datasets` videofolder with metadata files, a
  CSV/JSONL/TXT list of paths (labels optional); SynthMotion output;
- WebDataset-style ``.tar`` shards: a ``.tar`` file, a glob of them (``shards/train-*.tar``), a folder of them
  (``train-*.tar`` / ``test-*.tar`` name the splits, otherwise all are "train"), or ``hf://datasets/...`` paths;
  each sample's video file (``<key>.mp4``, ``.webm``, ...) becomes ``video`` and its ``<key>.cls`` ``label``;
- anything else: a Hub dataset name for `datasets.load_dataset`.

A source with a "train" split only can lend evaluation a deterministic held-out part of it
(``holdout_fraction``): the videos whose path hashes below the fraction form "test", the rest "train".

A SynthMotion folder is streamed by `stream_synthmotion` (its metadata.jsonl read row by row), not by
`datasets`' videofolder builder, whose streaming holds all rows of a 10 MB metadata chunk as Python
objects (~1.4 KiB per video, up to ~45 MiB) and lists every video file first (9 s for 10k videos).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import datasets
import numpy as np

from hfvid.data.datasets import LIST_SUFFIXES, load_video_source
from hfvid.data.synthetic import SynthMotionConfig, generate_synthmotion, load_synthmotion, synthmotion_features

HOLDOUT_SPLITS = ("test", "validation")


def holdout_key(path: str) -> float:
    """A fixed pseudo-random number in [0, 1) for a video path: which side of a held-out split it falls on."""
    return int.from_bytes(hashlib.blake2b(str(path).encode(), digest_size=8).digest(), "little") / 2**64


def looks_local(source: str) -> bool:
    """Whether ``source`` is meant as a local path rather than a Hub name ("user/name" or "name"): it starts like a
    path, has several "/", names a list file, or its first part is a local folder ("outputs/typo")."""
    return (
        source.startswith((".", "/", "~"))
        or source.count("/") > 1
        or source.lower().endswith(LIST_SUFFIXES)
        or (source.count("/") == 1 and os.path.isdir(source.split("/")[0]))
    )


def load_video_dataset(
    source: str,
    split: str = "train",
    streaming: bool = False,
    decode: bool = False,
    video_column: str = "video",
    config_name: str | None = None,
    synthmotion_dir: str | os.PathLike = "data/synthmotion",
    synthmotion_config: SynthMotionConfig | None = None,
    holdout_fraction: float | None = None,
):
    """One split of ``source`` as a `datasets` Dataset (or IterableDataset when ``streaming``), whose
    ``video_column`` is a `datasets.Video` feature (``decode=False``: ``{"path", "bytes"}`` dicts, which
    `hfvid.data.decoding.VideoReader` opens without decoding anything up front).

    ``holdout_fraction``: for a local source with a "train" split and no ``split`` ("test" or "validation"),
    ``split`` is the held-out part of "train" and "train" the rest (`holdout_key` of each path); with the source's
    own test split, or without the option, splits are as the source has them."""
    source = os.fspath(source)
    if source == "synthmotion":
        generate_synthmotion(synthmotion_dir, synthmotion_config, progress=True)
        source = os.fspath(synthmotion_dir)
    path = Path(source).expanduser()
    shards = tar_shards(source)
    if shards is not None:
        return load_tar_shards(shards, split=split, streaming=streaming, decode=decode, video_column=video_column)
    if (path / "synthmotion.json").is_file():
        if streaming:
            return stream_synthmotion(path, split=split, decode=decode)
        return load_synthmotion(path, split=split, decode=decode)
    if path.exists():
        splits = load_video_source(path, decode=decode)
        if _holds_out(splits, split, holdout_fraction):
            if not 0 < holdout_fraction < 1:
                raise ValueError(f"holdout_fraction must be in (0, 1), got {holdout_fraction}")
            dataset = _holdout(splits["train"], holdout_fraction, held_out=split != "train")
        elif split not in splits:
            raise ValueError(
                f"{source} has no split {split!r} (it has {', '.join(splits)}); a layout without split folders is one "
                "'train' split" + ("" if holdout_fraction else "; evaluation can hold out part of it (holdout_fraction)")
            )
        else:
            dataset = splits[split]
    elif looks_local(source):
        raise FileNotFoundError(f"no video folder or list at {path} (and it does not look like a Hub dataset name)")
    else:
        dataset = datasets.load_dataset(source, config_name, split=split, streaming=streaming)
        return dataset.cast_column(video_column, datasets.Video(decode=decode))
    return iterable_in_shards(dataset) if streaming else dataset


def holds_out(source: str | os.PathLike, split: str, holdout_fraction: float | None) -> bool:
    """Whether ``load_video_dataset(source, split, holdout_fraction=holdout_fraction)`` serves ``split`` from the
    source's "train" split held out by `holdout_key` (``split`` "test" or "validation": the held-out part; "train":
    the rest): true for a local folder or list with a "train" split and neither "test" nor "validation", and a
    ``holdout_fraction`` other than 0 or None. SynthMotion, ``.tar`` shards and Hub datasets keep their own splits (False)."""
    source = os.fspath(source)
    path = Path(source).expanduser()
    if not holdout_fraction or source == "synthmotion" or tar_shards(source) is not None:
        return False  # off, or a source with its own splits: nothing to list
    if (path / "synthmotion.json").is_file() or not path.exists():
        return False
    return _holds_out(load_video_source(path, decode=False), split, holdout_fraction)


def _holds_out(splits: dict, split: str, holdout_fraction: float | None) -> bool:
    has_holdout_split = any(name in splits for name in HOLDOUT_SPLITS)
    return bool(holdout_fraction) and split in ("train", *HOLDOUT_SPLITS) and "train" in splits and not has_holdout_split


def iterable_in_shards(dataset: datasets.Dataset, num_shards: int = 64) -> datasets.IterableDataset:
    """``dataset`` as an IterableDataset of ``num_shards`` shards (fewer when it has fewer rows), so that DataLoader
    workers and processes each get a share, its rows first put in a fixed random order (seed 0): a shard is a range
    of consecutive rows and each worker streams its own shards through its own shuffle buffer, so on rows sorted by
    class (a folder of class folders) each worker's batches would hold few classes."""
    return dataset.shuffle(seed=0).to_iterable_dataset(num_shards=max(1, min(len(dataset), num_shards)))


def tar_shards(source: str) -> dict[str, str | list[str]] | None:
    """``data_files`` (split -> pattern or files) when ``source`` names WebDataset ``.tar`` shards, else None."""
    if source.endswith(".tar") or (source.startswith("hf://") and ".tar" in source) or ("*" in source and ".tar" in source):
        return {"train": source}
    path = Path(source).expanduser()
    if path.is_dir():
        tars = sorted(str(p) for p in path.glob("*.tar"))
        if tars:
            by_split = {split: [t for t in tars if Path(t).name.startswith(f"{split}-")] for split in ("train", "validation", "test")}
            by_split = {split: files for split, files in by_split.items() if files}
            return by_split or {"train": tars}
    return None


def load_tar_shards(data_files: dict, split: str = "train", streaming: bool = True, decode: bool = False, video_column: str = "video"):
    """One split of WebDataset shards through `datasets`' ``webdataset`` builder: the sample's video file becomes
    ``video_column`` (a `datasets.Video`), its ``cls`` entry ``label``; other entries are kept as they are."""
    if split not in data_files:
        raise ValueError(f"the shards have no split {split!r} (they have {', '.join(data_files)}; name files <split>-*.tar)")
    dataset = datasets.load_dataset("webdataset", data_files={split: data_files[split]}, split=split, streaming=streaming)
    videos = [name for name, feature in dataset.features.items() if isinstance(feature, datasets.Video)]
    if not videos:
        raise ValueError(f"no video file (e.g. <key>.mp4) in the samples of {data_files[split]}; found {list(dataset.features)}")
    if videos[0] != video_column:
        dataset = dataset.rename_column(videos[0], video_column)
    if "cls" in dataset.features:
        dataset = dataset.rename_column("cls", "label")
    return dataset.cast_column(video_column, datasets.Video(decode=decode))


def _holdout(dataset, fraction: float, held_out: bool):
    """The held-out rows of ``dataset`` (those whose video path has `holdout_key` < ``fraction``), or the others."""
    paths = [row["path"] for row in dataset.cast_column("video", datasets.Video(decode=False))["video"]]
    return dataset.select([i for i, p in enumerate(paths) if (holdout_key(p) < fraction) == held_out])


STREAM_SHARDS = 16  # enough for processes x DataLoader workers on one machine
STREAM_BLOCK_BYTES = 2048  # the blocks of metadata.jsonl that shards are made of: about 5 SynthMotion rows


def stream_synthmotion(
    path: str | os.PathLike, split: str = "train", decode: bool = False, num_shards: int = STREAM_SHARDS
) -> datasets.IterableDataset:
    """One split of a generated SynthMotion set as a streamed `datasets` IterableDataset, whose memory does
    not grow with the number of videos.

    Yields the rows ``load_synthmotion(path, split=split, streaming=True, decode=decode)`` yields (same features;
    ``num_shards`` shards, so that processes x DataLoader workers each read their own share), in another order, but
    reads ``<split>/metadata.jsonl`` one line at a time.

    The file is sorted by class, and each DataLoader worker streams its own shards through its own shuffle buffer, so
    a shard must not be a run of consecutive rows: with 16 such shards of 125 rows 8 workers filled their batches of
    8 from 2.1 classes on average (4.9 with no worker; 5.3 for batches drawn at random; session 17). The file is read
    in blocks of ``STREAM_BLOCK_BYTES`` (about 5 rows) put in one fixed random order, and shard i reads every
    ``num_shards``-th block of that order: every shard is a random sample of the rows, at any size of the set.
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
        features=synthmotion_features(decode, phases=manifest.get("config", {}).get("phases", False)),
        gen_kwargs={
            "metadata_path": os.path.abspath(metadata),
            "shards": list(range(num_shards)),  # `datasets` hands each worker its sublist
            "num_shards": num_shards,
            "size": metadata.stat().st_size,
        },
    )


def _synthmotion_rows(metadata_path: str, shards: list[int], num_shards: int, size: int):
    """The metadata.jsonl rows of ``shards``, one at a time, ``file_name`` -> ``video`` (its path next to the
    metadata file): the file's ``size`` bytes cut into blocks of about ``STREAM_BLOCK_BYTES``, in a random order
    fixed by seed 0, and shard i the rows that start in every ``num_shards``-th block of that order from block i.
    The shards together hold every row once."""
    num_blocks = max(1, -(-size // STREAM_BLOCK_BYTES))
    order = np.random.default_rng(0).permutation(num_blocks)  # 8 bytes per block: 4 per KiB of metadata
    for shard in shards:
        for block in order[shard::num_shards]:
            yield from _rows_in_range(metadata_path, size * int(block) // num_blocks, size * (int(block) + 1) // num_blocks)


def _rows_in_range(metadata_path: str, start: int, end: int):
    directory = os.path.dirname(metadata_path)
    with open(metadata_path, "rb") as lines:
        if start > 0:
            lines.seek(start - 1)
            lines.readline()  # the row holding byte start - 1 belongs to the previous range
        while lines.tell() < end:
            line = lines.readline()
            if not line:
                break
            if not line.strip():
                continue
            row = json.loads(line)
            file_name = row.pop("file_name")
            relative = os.path.normpath(file_name)
            if "://" in file_name or os.path.isabs(relative) or relative == ".." or relative.startswith(".." + os.sep):
                raise ValueError(f"{metadata_path}: file_name {file_name!r} must be a path inside its folder")
            row["video"] = os.path.join(directory, relative)
            yield row
