"""What every hfvid video processor shares, and the multi-view processor of the contrastive methods.

Evaluation (``processor(videos)``, what pipelines call): one clip of ``num_frames`` consecutive frames
from the middle of the video, shortest edge resized, centre crop, Kinetics normalisation.

Pre-training: ``processor.pretraining_views(video, rng)`` turns one video into a dict of named views, the
keyword arguments of the method's ``...ForPreTraining.forward`` for that video (each its own frames, height and
width; views that share a shape may be stacked under one name, e.g. ``pixel_values_videos`` (clips, T, C, H, W));
`stack_views` stacks a batch of them name by name, and ``preprocess_pretraining(videos)`` does both. The default
``pretraining_views`` asks the method which frames each of its clips takes (``sample_pretraining_indices``),
decodes them in one pass, and stacks what ``pretraining_clips`` makes of them as ``pixel_values_videos``. With
``equivariance_transformations`` (a model config's E-SSL option) it adds ``equivariance_values`` (transformations, T,
C, H, W): one clip per transformation, decoded in the same pass.
"""

from __future__ import annotations

import importlib
import json
import os

import numpy as np
import torch
from transformers.image_processing_utils import BatchFeature
from transformers.image_utils import PILImageResampling
from transformers.processing_utils import VideosKwargs
from transformers.video_processing_utils import BaseVideoProcessor
from transformers.video_utils import VideoMetadata

from hfvid.data.frames import as_video, check_frames, read_clips, stack_views
from hfvid.data.sampling import GAP_DISTRIBUTIONS, nearby_clips, random_clip, uniform_clips
from hfvid.data.transformations import parse_transformation
from hfvid.data.transforms import KINETICS_MEAN, KINETICS_STD, ClipAugmentation, normalize
from hfvid.utils.remote_code import write_remote_code


class HfvidVideoProcessorKwargs(VideosKwargs, total=False):
    """Pre-training augmentation settings saved with the processor.

    crop_scale: RandomResizedCrop area range.
    flip_p, color_jitter, color_jitter_p, grayscale_p: the other augmentation settings.
    equivariance_transformations: E-SSL's extra clips, one per transformation name (None: none).
    equivariance_size: side of those clips (None: ``crop_size``).
    """

    crop_scale: list[float]
    flip_p: float
    color_jitter: list[float]
    color_jitter_p: float
    grayscale_p: float
    equivariance_transformations: list[str] | None
    equivariance_size: int | None


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
    default_to_square = False  # an int `size` is the shortest edge, as VideoMAE's
    num_frames = 16
    crop_scale = [0.2, 1.0]
    flip_p = 0.5
    color_jitter = [0.4, 0.4, 0.4, 0.1]
    color_jitter_p = 0.8
    grayscale_p = 0.2
    equivariance_transformations = None
    equivariance_size = None
    valid_kwargs = HfvidVideoProcessorKwargs
    model_input_names = ["pixel_values_videos"]

    @classmethod
    def from_model_config(cls, config, **kwargs):
        """The processor matching a model config: its clip length, image size (resized to 8/7 of the crop), the
        augmentation settings the config overrides (``config.augmentation``) and the extra clips of its E-SSL
        option (``config.equivariance``)."""
        equivariance = getattr(config, "equivariance", None)
        if equivariance:
            kwargs = {
                "equivariance_transformations": list(equivariance["transformations"]),
                "equivariance_size": equivariance["image_size"],
                **kwargs,
            }
        return cls(
            num_frames=config.num_frames,
            crop_size={"height": config.image_size, "width": config.image_size},
            size={"shortest_edge": round(config.image_size * 8 / 7)},
            **{**getattr(config, "augmentation", {}), **kwargs},
        )

    def sample_frames(
        self, metadata: VideoMetadata, num_frames: int | None = None, fps: float | None = None, **kwargs
    ) -> np.ndarray:
        """By default a clip of ``num_frames`` consecutive frames from the middle of the video, as the model saw in
        pre-training. With ``fps``, as transformers' processors do: ``int(total_num_frames / metadata.fps * fps)``
        frames spread evenly over the video (``fps`` wins over the processor's own ``num_frames``; another
        ``num_frames`` with it is an error). Raises ValueError when the video has fewer frames than asked for, or
        ``fps`` is given without the video's fps."""
        fps = fps if fps is not None else self.fps
        if fps is not None and num_frames is not None and num_frames != self.num_frames:
            raise ValueError("`num_frames` and `fps` are mutually exclusive arguments, please use only one!")
        if fps is not None:
            num_frames = None
        total = metadata.total_num_frames
        if fps is not None and num_frames is None:
            if metadata.fps is None:
                raise ValueError(
                    "sampling at `fps` needs the video's own fps in its metadata; pass `video_metadata` or `num_frames`"
                )
            wanted = int(total / metadata.fps * fps)
            if wanted > total:
                raise ValueError(f"fps={fps} asks for {wanted} frames of a {total}-frame video at {metadata.fps} fps")
            return np.arange(0, total, total / wanted).astype(int)[:wanted]
        num_frames = num_frames or self.num_frames
        if num_frames > total:
            raise ValueError(f"asked for a clip of {num_frames} frames of a video of {total} frames")
        return uniform_clips(total, num_frames, num_clips=1)[0]

    def preprocess(self, videos, **kwargs) -> BatchFeature:
        """transformers' preprocessing, after turning every input kind into decoded frames: a path (``str`` or
        ``Path``), bytes, a binary file, a `datasets` Video value (a torchcodec ``VideoDecoder`` or a
        ``{"path", "bytes"}`` dict) or a list of these is opened with hfvid's `VideoReader` (only the sampled frames
        are decoded; an unreadable input raises `VideoDecodeError` naming it and the reason). Arrays and tensors
        follow `check_frames`' rules."""
        sources = videos if isinstance(videos, (list, tuple)) and videos and all(map(_is_source, videos)) else None
        if sources is None and _is_source(videos):
            sources = [videos]
        if sources is not None:
            sample = kwargs.get("do_sample_frames", self.do_sample_frames)
            videos = [self._read_video(source, sample, kwargs.get("num_frames"), kwargs.get("fps")) for source in sources]
            kwargs["do_sample_frames"] = False
            kwargs.pop("video_metadata", None)
        elif isinstance(videos, (list, tuple)) and videos and all(getattr(v, "ndim", 0) == 4 for v in videos):
            videos = [check_frames(video, kwargs.get("do_rescale", self.do_rescale)) for video in videos]
        elif isinstance(videos, (torch.Tensor, np.ndarray)):
            videos = check_frames(videos, kwargs.get("do_rescale", self.do_rescale))
        return super().preprocess(videos, **kwargs)

    def _read_video(self, source, sample: bool, num_frames: int | None, fps: float | None) -> torch.Tensor:
        decoding = importlib.import_module("hfvid.data.decoding")  # not a static import: remote code needs no FFmpeg
        with decoding.VideoReader(source) as reader:
            meta = reader.metadata
            metadata = VideoMetadata(total_num_frames=meta.num_frames, fps=meta.fps or None, width=meta.width,
                                     height=meta.height, duration=meta.duration)  # fmt: skip
            try:
                indices = self.sample_frames(metadata, num_frames=num_frames, fps=fps) if sample else np.arange(meta.num_frames)
            except ValueError as error:  # e.g. too few frames: say which video
                raise ValueError(f"{reader.name}: {error}") from None
            return reader.get_frames(indices).contiguous()

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Save as transformers does, plus the processor's code for `trust_remote_code=True` loading."""
        saved = super().save_pretrained(save_directory, *args, **kwargs)
        auto_map = write_remote_code(save_directory, {"AutoVideoProcessor": type(self)}, "video_preprocessor_config.json")
        self.auto_map = {**(getattr(self, "auto_map", None) or {}), **auto_map}  # as a reloaded processor has it
        return saved

    def augmentation(self, size: int | None = None) -> ClipAugmentation:
        """The pre-training augmentation, to ``size`` (default: the square ``crop_size``); each call of the returned
        module draws new parameters."""
        height, width = self.crop_size.height, self.crop_size.width
        if height != width:
            raise ValueError(f"pre-training needs a square crop_size, got {height}x{width}")
        return ClipAugmentation(
            size=size or height,
            scale=tuple(self.crop_scale),
            flip_p=self.flip_p,
            color_jitter=tuple(self.color_jitter),
            color_jitter_p=self.color_jitter_p,
            grayscale_p=self.grayscale_p,
        )

    def to_model_input(self, clip: torch.Tensor) -> torch.Tensor:
        """uint8 clip (T, C, H, W) -> float, scaled to [0, 1] and normalised with the processor's mean and std."""
        return normalize(clip, self.image_mean, self.image_std)

    def pretraining_views(self, video, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """One video -> its named pre-training views, ``{"pixel_values_videos": (clips, T, C, H, W)}`` by default.

        ``video``: an open `hfvid.data.decoding.VideoReader` (only the needed frames are decoded), a
        `hfvid.data.frames.DecodedVideo`, or decoded uint8 frames (T x C x H x W or T x H x W x C). A method whose
        views differ in shape, or that needs more than clips, overrides this method."""
        video = as_video(video)
        indices = self.sample_pretraining_indices(video.metadata.num_frames, rng)
        extra = self.sample_equivariance_indices(video.metadata.num_frames, rng)
        clips = read_clips(video, indices + extra)
        views = {"pixel_values_videos": self.pretraining_clips(clips[: len(indices)])}
        if extra:
            views["equivariance_values"] = self.equivariance_clips(clips[len(indices) :])
        return views

    def sample_equivariance_indices(self, num_frames: int, rng: np.random.Generator) -> list[np.ndarray]:
        """Frame indices of E-SSL's extra clips, one per ``equivariance_transformations`` name ([] without them),
        without speed jitter."""
        return [
            parse_transformation(name).sample_indices(num_frames, self.num_frames, rng, speed_jitter=None)
            for name in self.equivariance_transformations or ()
        ]

    def equivariance_clips(self, clips: list[torch.Tensor]) -> torch.Tensor:
        """E-SSL's extra uint8 clips -> (transformations, T, C, size, size) float: one augmentation draw for all of
        them (so that only their transformations tell them apart), then each one's spatial transformation."""
        augmented = self.augmentation(self.equivariance_size).together(clips)
        return torch.stack(
            [
                self.to_model_input(parse_transformation(name).apply_spatial(clip))
                for name, clip in zip(self.equivariance_transformations, augmented)
            ]
        )

    def sample_pretraining_indices(self, num_frames: int, rng: np.random.Generator) -> list[np.ndarray]:
        """Frame indices of each pre-training clip of a ``num_frames``-frame video (for the default `pretraining_views`)."""
        raise NotImplementedError

    def pretraining_clips(self, clips: list[torch.Tensor]) -> torch.Tensor:
        """The uint8 clips (T_i, C, H, W) at the indices of `sample_pretraining_indices`, in that order -> the model
        input of one video (clips, T, C, H, W) float (for the default `pretraining_views`)."""
        raise NotImplementedError

    def preprocess_pretraining(
        self, videos, rng: np.random.Generator | None = None, return_tensors="pt"
    ) -> BatchFeature:
        """Pre-training views of a batch of videos (each as `pretraining_views` takes it; one video alone is a batch
        of one), stacked name by name: e.g. ``pixel_values_videos`` (batch, clips, frames, C, H, W)."""
        rng = np.random.default_rng() if rng is None else rng
        if isinstance(videos, (torch.Tensor, np.ndarray)) and videos.ndim == 4 or hasattr(videos, "get_frames"):
            videos = [videos]
        return BatchFeature(stack_views([self.pretraining_views(video, rng) for video in videos]), tensor_type=return_tensors)


class MaskedClipVideoProcessorKwargs(HfvidVideoProcessorKwargs, total=False):
    """patch_size, tubelet_size: the model's token grid; frame_stride: frames between a clip's frames in
    pre-training."""

    patch_size: int
    tubelet_size: int
    frame_stride: int


class MaskedClipVideoProcessor(HfvidVideoProcessor):
    """Views of the masked and predictive methods that pre-train transformers' own video ViTs (VideoMAE, V-JEPA):
    one clip of ``num_frames`` frames ``frame_stride`` apart at a random time, the pre-training augmentation, and
    the method's token masks (`sample_masks`). The clip goes under the model's own input name
    (``model_input_names[0]``). ``save_pretrained`` writes a plain transformers processor config
    (``transformers_processor_type``; the pre-training settings ride along), so the folder loads without hfvid."""

    patch_size = 16
    tubelet_size = 2
    frame_stride = 1
    crop_scale = [0.3, 1.0]
    color_jitter_p = 0.0
    grayscale_p = 0.0
    transformers_processor_type: str = ""
    valid_kwargs = MaskedClipVideoProcessorKwargs

    @classmethod
    def from_model_config(cls, config, **kwargs):
        """The processor of a model config with ``patch_size`` and ``tubelet_size`` (and the base's fields)."""
        return super().from_model_config(config, patch_size=config.patch_size, tubelet_size=config.tubelet_size, **kwargs)

    @property
    def token_grid(self) -> tuple[int, int, int]:
        """(time steps, patch rows, patch columns) of a pre-training clip."""
        height, width = self.crop_size.height, self.crop_size.width
        if self.num_frames % self.tubelet_size or height % self.patch_size or width % self.patch_size:
            raise ValueError(
                f"a {self.num_frames}x{height}x{width} clip does not split into {self.tubelet_size}x{self.patch_size}x"
                f"{self.patch_size} tubelets"
            )
        return self.num_frames // self.tubelet_size, height // self.patch_size, width // self.patch_size

    def sample_masks(self, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """The named token masks of one clip (see `hfvid.data.masks`)."""
        raise NotImplementedError

    def pretraining_views(self, video, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """One video -> ``{<model input name>: (T, C, H, W) float, **sample_masks(rng)}``."""
        video = as_video(video)
        indices = random_clip(video.metadata.num_frames, self.num_frames, rng, stride=self.frame_stride)
        (clip,) = read_clips(video, [indices])
        return {self.model_input_names[0]: self.to_model_input(self.augmentation()(clip)), **self.sample_masks(rng)}

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Save as a plain transformers processor config of ``transformers_processor_type`` (no hfvid code, no
        ``auto_map``)."""
        saved = BaseVideoProcessor.save_pretrained(self, save_directory, *args, **kwargs)
        path = os.path.join(save_directory, "video_preprocessor_config.json")
        with open(path) as f:
            settings = json.load(f)
        settings["video_processor_type"] = self.transformers_processor_type
        with open(path, "w") as f:
            f.write(json.dumps(settings, indent=2, sort_keys=True) + "\n")
        return saved


def _is_source(video) -> bool:
    """An encoded video (path, bytes, file, `datasets` Video value) rather than decoded frames."""
    return (
        isinstance(video, (str, os.PathLike, bytes, bytearray, dict))
        or hasattr(video, "read")
        or type(video).__name__ == "VideoDecoder"
    )


class MultiViewVideoProcessorKwargs(HfvidVideoProcessorKwargs, total=False):
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
    valid_kwargs = MultiViewVideoProcessorKwargs

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

    def pretraining_clips(self, clips: list[torch.Tensor]) -> torch.Tensor:
        """(clips_per_video * views_per_clip, T, C, size, size) float, clip after clip."""
        augment = self.augmentation()
        return torch.stack([self.to_model_input(augment(clip)) for clip in clips for _ in range(self.views_per_clip)])
