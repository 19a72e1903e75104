"""Pre-training samples from any `datasets` video source, for any hfvid method.

A method's video processor decides what one sample is: ``processor.pretraining_views(reader, rng)`` turns an
open video into a dict of named views (the keyword arguments of the method's ``forward``). This module opens
each video, skips and counts unreadable ones, makes the randomness of every sample depend only on (seed, epoch,
rank, worker, position), so that a resumed run sees the same samples as an uninterrupted one, and stacks a
batch name by name. It knows no method and no view name.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from hfvid.data.decoding import VideoDecodeError, open_video
from hfvid.data.frames import DecodedVideo, frames_array, is_decoded, stack_views

logger = logging.getLogger(__name__)


class PretrainingClips(IterableDataset):
    """Iterates a (streamed) `datasets` source and yields ``{"views": {name: tensor}, "video_id", "skipped"}``,
    the views being what ``processor.pretraining_views`` makes of the video.

    ``video_id`` identifies the video across epochs and processes (see `video_id`), for methods that must
    know which clips show the same video (RINCE's ranked positives).

    ``worker`` and ``position`` say where the sample is in this worker's share of the epoch (the index of its row,
    counting rows skipped before it): a training loop records the furthest position consumed per worker
    (`collate_pretraining` gives ``progress``), and after ``resume_from(progress)`` the next epoch pass starts
    every worker just after it, passing over the rows before it without opening them. The sample at a given
    (seed, epoch, rank, worker, position) is always the same, so a run resumed with one process and no workers
    sees exactly the batches of an uninterrupted one; with several workers no video is repeated or lost, but
    the order in which the DataLoader interleaves the workers' batches may differ.

    ``skipped`` lists the unreadable videos passed over since the previous sample of this worker, as
    ``{"video": path (or "<bytes, id N>"), "reason": the error}``; unreadable videos at the end of a worker's share
    are reported in a sample with ``views=None`` (`collate_pretraining` drops it and keeps the list).

    ``decode_cache_mb``: decoded videos kept in memory, so that a video met again in a later epoch is not decoded
    again (the main job reads each of its 2000 videos 8 times). Each video is decoded whole the first time and kept
    while the cache has room for it (no eviction: on a data set larger than the cache, the videos that did not fit
    are decoded as before, only the frames their clips need). The frames are the same either way, so the samples
    are too. Only where the dataset is iterated in the training process itself (no loader workers: a worker is
    started afresh for every epoch, and its cache would die with it).
    """

    def __init__(
        self,
        dataset,
        processor,
        video_column: str = "video",
        seed: int = 0,
        rank: int = 0,
        backend: str = "torchcodec",
        decode_cache_mb: float = 0,
    ):
        self.dataset = dataset
        self.processor = processor
        self.video_column = video_column
        self.seed = seed
        self.rank = rank
        self.backend = backend
        self.epoch = 0
        self.resume_positions: dict[int, int] = {}
        self.decode_cache_bytes = int(decode_cache_mb * 2**20)
        self.decoded: dict[int, DecodedVideo] = {}  # video_id -> its frames
        self.decoded_bytes = 0
        self.not_whole: set[int] = set()  # video_ids that failed to decode whole: read clip by clip, not tried again

    def open(self, video, key: int, in_worker: bool):
        """An open video (``key``: its `video_id`): its decoded frames when cached (or when they fit in the cache now:
        decoded whole and kept), else `open_video`'s reader."""
        if in_worker or not self.decode_cache_bytes or is_decoded(video):
            return open_video(video, backend=self.backend)
        if key in self.decoded:
            return self.decoded[key]
        if key in self.not_whole:
            return open_video(video, backend=self.backend)
        reader = open_video(video, backend=self.backend)
        meta = reader.metadata
        if self.decoded_bytes + meta.num_frames * 3 * meta.height * meta.width > self.decode_cache_bytes:
            return reader
        try:
            with reader:
                frames = reader.get_frames(np.arange(meta.num_frames))
        except (VideoDecodeError, IndexError):  # partly unreadable: its clips may still read, as without a cache
            self.not_whole.add(key)
            return open_video(video, backend=self.backend)
        self.decoded[key] = DecodedVideo(frames, name=video_name(video))
        self.decoded_bytes += frames.numel()
        return self.decoded[key]

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle (datasets' shuffle buffer) and redraw augmentations for a new epoch."""
        self.epoch = epoch
        self.resume_positions = {}
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)

    def resume_from(self, progress: dict[int, int]) -> None:
        """Start the next pass of each worker at its row ``progress[worker]`` (rows consumed so far in this epoch);
        call after `set_epoch`."""
        self.resume_positions = {int(worker): int(position) for worker, position in progress.items()}

    def __iter__(self):
        worker = get_worker_info()
        worker_id = 0 if worker is None else worker.id
        skipped = []
        start = self.resume_positions.get(worker_id, 0)
        position = -1
        for position, example in enumerate(self.dataset):
            if position < start:  # consumed before the checkpoint: not opened again
                continue
            rng = np.random.default_rng([self.seed, self.epoch, self.rank, worker_id, position])
            # torchvision's augmentations draw from torch's CPU generator. Seed it alone: torch.manual_seed also seeds
            # every CUDA device, through a lazy call that records a stack trace each time (0.19 ms a video here).
            torch.default_generator.manual_seed(int(rng.integers(2**63)))
            key = video_id(example[self.video_column])
            try:
                with self.open(example[self.video_column], key, in_worker=worker is not None) as reader:
                    views = self.processor.pretraining_views(reader, rng)
            except (VideoDecodeError, IndexError) as error:
                skipped.append({"video": video_name(example[self.video_column]), "reason": str(error)})
                logger.warning("skipping unreadable video: %s", error)
                continue
            where = {"worker": worker_id, "position": position}
            yield {"views": views, "video_id": key, "skipped": skipped, **where}
            skipped = []
        if skipped:
            yield {"views": None, "video_id": None, "skipped": skipped, "worker": worker_id, "position": position}


def video_id(video) -> int:
    """A stable 63-bit id of a video value: a hash of its path (undecoded ``{"path", "bytes"}`` dict, path), of its
    bytes when it has no path, or of its pixels (decoded frames: a tensor, an array or a list of frames)."""
    if isinstance(video, dict):
        video = video.get("path") or video.get("bytes")
    if is_decoded(video):
        data = np.ascontiguousarray(np.asarray(frames_array(video))).tobytes()
    else:
        data = video if isinstance(video, bytes) else str(video).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little") >> 1


def video_name(video) -> str:
    """How an unreadable video is named in reports: its path, or its id when it came as bytes or frames."""
    if isinstance(video, dict):
        return str(video.get("path") or f"<bytes, id {video_id(video)}>")
    if is_decoded(video):
        return f"<decoded frames, id {video_id(video)}>"
    return f"<bytes, id {video_id(video)}>" if isinstance(video, bytes) else str(video)


UNREADABLE_FILE = "unreadable_videos.jsonl"


def write_unreadable(folder, unreadable: dict[str, str]) -> Path:
    """``folder/unreadable_videos.jsonl``: one ``{"video", "reason"}`` line per unreadable video, sorted; its path."""
    path = Path(folder) / UNREADABLE_FILE
    path.write_text("".join(json.dumps({"video": video, "reason": reason}) + "\n" for video, reason in sorted(unreadable.items())))
    return path


def collate_pretraining(samples: list[dict]) -> dict:
    """A batch of samples -> ``{**views stacked name by name, "video_ids", "num_videos", "num_samples", "skipped",
    "progress"}``: ``num_videos`` readable videos (0 when every video of the batch was unreadable: then no views and
    no ids), ``num_samples`` the samples it was made of (fewer than the batch size: a worker's last batch),
    ``skipped`` the unreadable ones met since the previous batch (``{"video", "reason"}``), ``progress`` the rows
of each worker's share consumed once this batch is (worker -> position + 1). A training loop passes
    the entries that the model's ``forward`` names (so ``video_ids`` reaches only methods that ask for it)."""
    readable = [sample for sample in samples if sample["views"] is not None]
    batch = stack_views([sample["views"] for sample in readable])
    if readable:
        batch["video_ids"] = torch.tensor([s["video_id"] for s in readable], dtype=torch.long)
    batch["num_videos"] = len(readable)
    batch["num_samples"] = len(samples)
    batch["skipped"] = [entry for sample in samples for entry in sample["skipped"]]
    batch["progress"] = {}
    for sample in samples:
        worker = sample.get("worker", 0)
        batch["progress"][worker] = max(batch["progress"].get(worker, 0), sample.get("position", -1) + 1)
    return batch
