"""Batch collators that decode, sample and augment clips inside DataLoader workers (e.g. for `Trainer`)."""

from __future__ import annotations

import logging

import numpy as np
import torch

from hfvid.data.decoding import VideoDecodeError, VideoReader
from hfvid.data.sampling import random_clip, uniform_clips
from hfvid.data.transforms import ClipAugmentation

logger = logging.getLogger(__name__)


class VideoClassificationCollator:
    """Examples ``{video_column: video, label_column: int}`` -> ``{"pixel_values_videos", "labels"}``.

    Training: one 1x clip at a random start, random resized crop and flip (one draw per clip).
    Evaluation: the middle 1x clip, resized and centre-cropped by the model's video processor.
    Unreadable videos are dropped from the batch and logged; a batch with none readable raises.
    """

    def __init__(
        self,
        processor,
        train: bool,
        video_column: str = "video",
        label_column: str = "label",
        backend: str = "torchcodec",
        crop_scale: tuple[float, float] = (0.25, 1.0),
    ):
        self.processor = processor
        self.train = train
        self.video_column = video_column
        self.label_column = label_column
        self.backend = backend
        size = processor.crop_size.height
        self.augment = ClipAugmentation(size=size, scale=crop_scale, color_jitter=None, grayscale_p=0.0)
        self.mean = torch.tensor(processor.image_mean).view(1, 3, 1, 1)
        self.std = torch.tensor(processor.image_std).view(1, 3, 1, 1)

    def _clip(self, video) -> torch.Tensor:
        clip_len = self.processor.num_frames
        with VideoReader(video, backend=self.backend) as reader:
            num_frames = reader.metadata.num_frames
            if self.train:
                rng = np.random.default_rng(int(torch.randint(2**62, ())))  # torch's RNG is seeded per worker
                frames = reader.get_frames(random_clip(num_frames, clip_len, rng))
            else:
                frames = reader.get_frames(uniform_clips(num_frames, clip_len, num_clips=1)[0])
        if self.train:
            return (self.augment(frames).float() / 255 - self.mean) / self.std
        return self.processor([frames], do_sample_frames=False, return_tensors="pt")["pixel_values_videos"][0]

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        clips, labels, errors = [], [], []
        for example in examples:
            try:
                clips.append(self._clip(example[self.video_column]))
            except (VideoDecodeError, IndexError) as error:
                errors.append(str(error))
                logger.warning("dropping unreadable video from the batch: %s", error)
                continue
            labels.append(int(example[self.label_column]))
        if not clips:
            raise VideoDecodeError("<batch>", "no readable video in the batch: " + "; ".join(errors))
        return {"pixel_values_videos": torch.stack(clips), "labels": torch.tensor(labels)}
