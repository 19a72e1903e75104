"""What every hfvid video processor shares, and the multi-view processor of the contrastive methods.

Evaluation (``processor(videos)``, what pipelines call): one clip of ``num_frames`` consecutive frames
from the middle of the video, shortest edge resized, centre crop, Kinetics normalisation.

Pre-training (``processor.preprocess_pretraining(videos)``): a method says which frames each of its
clips takes (``sample_pretraining_indices``) and how those frames become the model input of one video
(``pretraining_clips``); every clip gets its own draw of the augmentation. The result is stacked as
(batch, clips, frames, channels, height, width).
"""

from __future__ import annotations

import numpy as np
import torch
from transformers.image_processing_utils import BatchFeature
from transformers.image_utils import PILImageResampling
from transformers.processing_utils import VideosKwargs
from transformers.video_processing_utils import BaseVideoProcessor
from transformers.video_utils import VideoMetadata

from hfvid.data.sampling import GAP_DISTRIBUTIONS, nearby_clips, uniform_clips
from hfvid.data.transforms import KINETICS_MEAN, KINETICS_STD, ClipAugmentation
from hfvid.hub.remote_code import write_remote_code


class HfvidVideosKwargs(VideosKwargs, total=False):
    """Pre-training augmentation settings saved with the processor.

    crop_scale: RandomResizedCrop area range.
    flip_p, color_jitter, color_jitter_p, grayscale_p: the other augmentation settings.
    """

    crop_scale: list[float]
    flip_p: float
    color_jitter: list[float]
    color_jitter_p: float
    grayscale_p: float


class HfvidVideoProcessor(BaseVideoProcessor):
    """Base of hfvid's video processors. Subclasses implement ``sample_pretraining_indices`` and
    ``pretraining_clips`` and may extend ``from_model_config``."""

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
    crop_scale = [0.2, 1.0]
    flip_p = 0.5
    color_jitter = [0.4, 0.4, 0.4, 0.1]
    color_jitter_p = 0.8
    grayscale_p = 0.2
    valid_kwargs = HfvidVideosKwargs
    model_input_names = ["pixel_values_videos"]

    @classmethod
    def from_model_config(cls, config, **kwargs):
        """The processor matching a model config: its clip length, image size (resized to 8/7 of the crop) and
        the augmentation settings the config overrides (``config.augmentation``)."""
        return cls(
            num_frames=config.num_frames,
            crop_size={"height": config.image_size, "width": config.image_size},
            size={"shortest_edge": round(config.image_size * 8 / 7)},
            **{**getattr(config, "augmentation", {}), **kwargs},
        )

    def sample_frames(self, metadata: VideoMetadata, num_frames: int | None = None, **kwargs) -> np.ndarray:
        """A clip of consecutive frames from the middle of the video, as the model saw in pre-training."""
        return uniform_clips(metadata.total_num_frames, num_frames or self.num_frames, num_clips=1)[0]

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Save as transformers does, plus the processor's code for `trust_remote_code=True` loading."""
        saved = super().save_pretrained(save_directory, *args, **kwargs)
        write_remote_code(save_directory, {"AutoVideoProcessor": type(self)}, "video_preprocessor_config.json")
        return saved

    def augmentation(self) -> ClipAugmentation:
        """The pre-training augmentation; each call of the returned module draws new parameters."""
        height, width = self.crop_size.height, self.crop_size.width
        if height != width:
            raise ValueError(f"pre-training needs a square crop_size, got {height}x{width}")
        return ClipAugmentation(
            size=height,
            scale=tuple(self.crop_scale),
            flip_p=self.flip_p,
            color_jitter=tuple(self.color_jitter),
            color_jitter_p=self.color_jitter_p,
            grayscale_p=self.grayscale_p,
        )

    def to_model_input(self, clip: torch.Tensor) -> torch.Tensor:
        """uint8 clip (T, C, H, W) -> float, scaled to [0, 1] and normalised with the processor's mean and std."""
        mean = torch.tensor(self.image_mean).view(1, 3, 1, 1)
        std = torch.tensor(self.image_std).view(1, 3, 1, 1)
        return (clip.float() / 255 - mean) / std

    def sample_pretraining_indices(self, num_frames: int, rng: np.random.Generator) -> list[np.ndarray]:
        """Frame indices of each pre-training clip of a ``num_frames``-frame video."""
        raise NotImplementedError

    def pretraining_clips(self, frames: torch.Tensor, indices: list[np.ndarray]) -> torch.Tensor:
        """``frames`` (sum of clip lengths, C, H, W) uint8 holds the clips' frames back to back, in the order
        of ``indices`` (from `sample_pretraining_indices`) -> the model input of one video (clips, T, C, H, W)."""
        raise NotImplementedError

    def preprocess_pretraining(
        self, videos, rng: np.random.Generator | None = None, return_tensors="pt"
    ) -> BatchFeature:
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
                    raise ValueError(
                        f"a decoded video must be T x C x H x W or T x H x W x C, got {tuple(video.shape)}"
                    )
                if video.shape[1] != 3:
                    video = video.permute(0, 3, 1, 2)
                indices = self.sample_pretraining_indices(len(video), rng)
                frames = video[torch.as_tensor(np.concatenate(indices))]
            batch.append(self.pretraining_clips(frames, indices))
        return BatchFeature({"pixel_values_videos": torch.stack(batch)}, tensor_type=return_tensors)


class MultiViewVideosKwargs(HfvidVideosKwargs, total=False):
    """clips_per_video: clips from different times of a video; views_per_clip: augmentations of each clip;
    gap_distribution: how far apart the clips start (see `hfvid.data.sampling.nearby_clips`)."""

    clips_per_video: int
    views_per_clip: int
    gap_distribution: str


class MultiViewVideoProcessor(HfvidVideoProcessor):
    """Views of a video for contrastive and predictive methods: ``clips_per_video`` clips at nearby times,
    each seen through ``views_per_clip`` independent augmentations, laid out clip after clip:
    [clip0-view0, clip0-view1, ..., clip1-view0, ...]."""

    clips_per_video = 2
    views_per_clip = 1
    gap_distribution = "decreasing"
    valid_kwargs = MultiViewVideosKwargs

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.gap_distribution not in GAP_DISTRIBUTIONS:
            raise ValueError(f"gap_distribution must be one of {GAP_DISTRIBUTIONS}, got {self.gap_distribution!r}")
        if self.clips_per_video * self.views_per_clip < 2:
            raise ValueError("a contrastive sample needs at least two views (clips_per_video x views_per_clip)")

    @classmethod
    def from_model_config(cls, config, **kwargs):
        """The processor matching a model config, including its view layout."""
        views = dict(clips_per_video=config.clips_per_video, views_per_clip=config.views_per_clip)
        return super().from_model_config(config, **views, gap_distribution=config.gap_distribution, **kwargs)

    def sample_pretraining_indices(self, num_frames: int, rng: np.random.Generator) -> list[np.ndarray]:
        """One index array per clip (views of a clip share its frames)."""
        return list(nearby_clips(num_frames, self.num_frames, self.clips_per_video, rng, self.gap_distribution))

    def pretraining_clips(self, frames: torch.Tensor, indices: list[np.ndarray]) -> torch.Tensor:
        """(clips_per_video * views_per_clip, T, C, size, size) float, clip after clip."""
        augment = self.augmentation()
        views = [
            self.to_model_input(augment(clip))
            for clip in frames.split([len(i) for i in indices])
            for _ in range(self.views_per_clip)
        ]
        return torch.stack(views)
