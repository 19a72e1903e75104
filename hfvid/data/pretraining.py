"""Pre-training samples from any `datasets` video source, for any hfvid method.

A method's video processor decides what one sample is through two calls:
``sample_pretraining_indices(num_frames, rng)`` (the frame indices of each clip) and
``pretraining_clips(frames, indices)`` (those frames -> the model input of one video). This module
decodes only the needed frames, skips and counts unreadable videos, and makes the randomness of
every sample depend only on (seed, epoch, rank, worker, position), so that a resumed run sees the
same samples as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import logging

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from hfvid.data.decoding import VideoDecodeError, VideoReader

logger = logging.getLogger(__name__)


class PretrainingClips(IterableDataset):
    """Iterates a (streamed) `datasets` source and yields ``{"pixel_values_videos", "video_id", "num_skipped"}``.

    ``video_id`` identifies the video across epochs and processes (see `video_id`), for methods that must
    know which clips show the same video (RINCE's ranked positives).

    ``num_skipped`` counts the unreadable videos passed over since the previous sample of this worker;
    an unreadable video at the end of a worker's share is reported in a sample with
    ``pixel_values_videos=None`` (`collate_pretraining` drops it and keeps the count).
    """

    def __init__(
        self,
        dataset,
        processor,
        video_column: str = "video",
        seed: int = 0,
        rank: int = 0,
        backend: str = "torchcodec",
    ):
        self.dataset = dataset
        self.processor = processor
        self.video_column = video_column
        self.seed = seed
        self.rank = rank
        self.backend = backend
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle (datasets' shuffle buffer) and redraw augmentations for a new epoch."""
        self.epoch = epoch
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)

    def _sample(self, video, rng: np.random.Generator) -> torch.Tensor:
        with VideoReader(video, backend=self.backend) as reader:
            indices = self.processor.sample_pretraining_indices(reader.metadata.num_frames, rng)
            frames = reader.get_frames(np.concatenate(indices))
        return self.processor.pretraining_clips(frames, indices)

    def __iter__(self):
        worker = get_worker_info()
        worker_id = 0 if worker is None else worker.id
        skipped = 0
        for position, example in enumerate(self.dataset):
            rng = np.random.default_rng([self.seed, self.epoch, self.rank, worker_id, position])
            torch.manual_seed(int(rng.integers(2**63)))  # torchvision's augmentations draw from torch's RNG
            try:
                clips = self._sample(example[self.video_column], rng)
            except (VideoDecodeError, IndexError) as error:
                skipped += 1
                logger.warning("skipping unreadable video: %s", error)
                continue
            yield {
                "pixel_values_videos": clips,
                "video_id": video_id(example[self.video_column]),
                "num_skipped": skipped,
            }
            skipped = 0
        if skipped:
            yield {"pixel_values_videos": None, "video_id": None, "num_skipped": skipped}


def video_id(video) -> int:
    """A stable 63-bit id of a `datasets` video value (undecoded ``{"path", "bytes"}`` dict, path or bytes):
    a hash of its path, or of its bytes when it has no path."""
    if isinstance(video, dict):
        video = video.get("path") or video.get("bytes")
    data = video if isinstance(video, bytes) else str(video).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little") >> 1


def collate_pretraining(samples: list[dict]) -> dict:
    """Stack the clips and video ids of a batch and sum the skipped-video counts; ``pixel_values_videos``
    and ``video_ids`` are None when every video of the batch was unreadable."""
    readable = [sample for sample in samples if sample["pixel_values_videos"] is not None]
    return {
        "pixel_values_videos": torch.stack([s["pixel_values_videos"] for s in readable]) if readable else None,
        "video_ids": torch.tensor([s["video_id"] for s in readable], dtype=torch.long) if readable else None,
        "num_skipped": sum(sample["num_skipped"] for sample in samples),
    }
