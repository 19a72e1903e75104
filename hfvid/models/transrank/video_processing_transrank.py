"""TransRank video processor: evaluation clips, and the transformed clips of pre-training.

Evaluation (``processor(videos)``, what pipelines call): one clip of ``num_frames`` consecutive frames
from the middle of the video, shortest edge resized, centre crop, Kinetics normalisation.

Pre-training (``processor.preprocess_pretraining(videos)``): for each video one clip per
transformation, each with its own temporal sampling, its own augmentation draw and then its
spatial transformation, stacked as (batch, clips, frames, channels, height, width).
"""

from __future__ import annotations

import numpy as np
import torch
from transformers.image_processing_utils import BatchFeature
from transformers.image_utils import PILImageResampling
from transformers.processing_utils import Unpack, VideosKwargs
from transformers.video_processing_utils import BaseVideoProcessor
from transformers.video_utils import VideoMetadata

from hfvid.data.sampling import uniform_clips
from hfvid.data.transformations import parse_transformation
from hfvid.data.transforms import KINETICS_MEAN, KINETICS_STD, ClipAugmentation
from hfvid.hub.remote_code import write_remote_code


class TransRankVideosKwargs(VideosKwargs, total=False):
    """Pre-training settings saved with the processor.

    transformations: one clip per name, in this order (see `hfvid.data.transformations`).
    speed_jitter: playback-speed factor range, or None.
    crop_scale: RandomResizedCrop area range of the pre-training augmentation.
    flip_p, color_jitter, color_jitter_p, grayscale_p: the other augmentation settings.
    """

    transformations: list[str]
    speed_jitter: list[float] | None
    crop_scale: list[float]
    flip_p: float
    color_jitter: list[float]
    color_jitter_p: float
    grayscale_p: float


class TransRankVideoProcessor(BaseVideoProcessor):
    resample = PILImageResampling.BILINEAR
    image_mean = list(KINETICS_MEAN)
    image_std = list(KINETICS_STD)
    size = {"shortest_edge": 128}
    crop_size = {"height": 112, "width": 112}
    do_resize = True
    do_center_crop = True
    do_rescale = True
    do_normalize = True
    do_convert_rgb = True
    do_sample_frames = True
    num_frames = 16
    transformations = ["1x", "2x", "reverse", "rot0", "rot90", "rot180", "rot270"]
    speed_jitter = [0.8, 1.2]
    crop_scale = [0.2, 1.0]
    flip_p = 0.5
    color_jitter = [0.4, 0.4, 0.4, 0.1]
    color_jitter_p = 0.8
    grayscale_p = 0.2
    valid_kwargs = TransRankVideosKwargs
    model_input_names = ["pixel_values_videos"]

    def __init__(self, **kwargs: Unpack[TransRankVideosKwargs]):
        super().__init__(**kwargs)
        for name in self.transformations:
            parse_transformation(name)

    @classmethod
    def from_model_config(cls, config, **kwargs) -> "TransRankVideoProcessor":
        """The processor matching a `TransRankConfig`: its clip length, image size and transformations."""
        return cls(
            num_frames=config.num_frames,
            crop_size={"height": config.image_size, "width": config.image_size},
            size={"shortest_edge": round(config.image_size * 8 / 7)},
            transformations=list(config.transformations),
            speed_jitter=config.speed_jitter,
            **kwargs,
        )

    def sample_frames(self, metadata: VideoMetadata, num_frames: int | None = None, **kwargs) -> np.ndarray:
        """A clip of consecutive frames (1x) from the middle of the video, as the model saw in pre-training."""
        return uniform_clips(metadata.total_num_frames, num_frames or self.num_frames, num_clips=1)[0]

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Save as transformers does, plus the processor's code for `trust_remote_code=True` loading."""
        saved = super().save_pretrained(save_directory, *args, **kwargs)
        write_remote_code(
            save_directory, {"AutoVideoProcessor": TransRankVideoProcessor}, "video_preprocessor_config.json"
        )
        return saved

    def sample_pretraining_indices(self, num_frames: int, rng: np.random.Generator) -> list[np.ndarray]:
        """Frame indices of each pre-training clip of a ``num_frames``-frame video, one array per transformation."""
        return [
            parse_transformation(name).sample_indices(num_frames, self.num_frames, rng, speed_jitter=self.speed_jitter)
            for name in self.transformations
        ]

    def pretraining_clips(self, frames: torch.Tensor, indices: list[np.ndarray]) -> torch.Tensor:
        """Turn the frames of each clip into a model input.

        ``frames`` (sum of clip lengths, C, H, W) uint8 holds the clips' frames back to back, in the order of
        ``indices`` (as returned by `sample_pretraining_indices`). Returns (clips, frames, C, size, size) float.
        """
        height, width = self.crop_size.height, self.crop_size.width
        if height != width:
            raise ValueError(f"pre-training needs a square crop_size, got {height}x{width}")
        augment = ClipAugmentation(
            size=height,
            scale=tuple(self.crop_scale),
            flip_p=self.flip_p,
            color_jitter=tuple(self.color_jitter),
            color_jitter_p=self.color_jitter_p,
            grayscale_p=self.grayscale_p,
        )
        mean = torch.tensor(self.image_mean).view(1, 3, 1, 1)
        std = torch.tensor(self.image_std).view(1, 3, 1, 1)
        clips = []
        for name, clip in zip(self.transformations, frames.split([len(i) for i in indices])):
            clip = parse_transformation(name).apply_spatial(augment(clip))
            clips.append((clip.float() / 255 - mean) / std)
        return torch.stack(clips)

    def preprocess_pretraining(self, videos, rng: np.random.Generator | None = None, return_tensors="pt") -> BatchFeature:
        """Pre-training clips of a batch of videos -> ``pixel_values_videos`` (batch, clips, frames, C, H, W).

        Each video is either its decoded frames (a uint8 tensor or array, T x C x H x W or T x H x W x C) or a
        reader with ``metadata.num_frames`` and ``get_frames(indices)`` (like `hfvid.data.decoding.VideoReader`),
        which then decodes only the frames the clips need.
        """
        rng = np.random.default_rng() if rng is None else rng
        if isinstance(videos, (torch.Tensor, np.ndarray)) and videos.ndim == 4 or hasattr(videos, "get_frames"):
            videos = [videos]
        batch = []
        for video in videos:
            if hasattr(video, "get_frames"):
                indices = self.sample_pretraining_indices(video.metadata.num_frames, rng)
                frames = video.get_frames(np.concatenate(indices))
            else:
                video = torch.as_tensor(video)
                if video.ndim != 4 or 3 not in (video.shape[1], video.shape[-1]):
                    raise ValueError(f"a decoded video must be T x C x H x W or T x H x W x C, got {tuple(video.shape)}")
                if video.shape[1] != 3:
                    video = video.permute(0, 3, 1, 2)
                indices = self.sample_pretraining_indices(len(video), rng)
                frames = video[torch.as_tensor(np.concatenate(indices))]
            batch.append(self.pretraining_clips(frames, indices))
        return BatchFeature({"pixel_values_videos": torch.stack(batch)}, tensor_type=return_tensors)
