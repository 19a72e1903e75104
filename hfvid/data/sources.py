"""One entry point from "where the videos are" to a `datasets` object, for training and evaluation.

``load_video_dataset(source, split)`` accepts:
- ``"synthmotion"``: the built-in SynthMotion set in ``synthmotion_dir`` (generated there if missing);
- a folder: SynthMotion output, or a `videofolder` (``<split>/<class>/*.mp4``, or ``<class>/*.mp4`` = one
  "train" split);
- a ``.csv`` file of ``path,label`` rows (one "train" split);
- anything else: a Hub dataset name for `datasets.load_dataset`.
"""

from __future__ import annotations

import os
from pathlib import Path

import datasets

from hfvid.data.datasets import load_video_csv, load_video_folder
from hfvid.data.synthetic import SynthMotionConfig, generate_synthmotion, load_synthmotion


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
        return load_synthmotion(path, split=split, streaming=streaming, decode=decode)
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
