"""Batch collators that decode, sample and augment clips inside DataLoader workers (e.g. for `Trainer`)."""

from __future__ import annotations

import logging
import re

import numpy as np
import torch
from transformers import TrainerCallback

from hfvid.data.decoding import VideoDecodeError, open_video
from hfvid.data.pretraining import video_name
from hfvid.data.sampling import random_clip, uniform_clips
from hfvid.data.transforms import ClipAugmentation, normalize

logger = logging.getLogger(__name__)


# Words that a horizontal flip turns into each other (both directions are listed).
MIRRORED_WORDS = {
    "left": "right", "right": "left",
    "cw": "ccw", "ccw": "cw",
    "clockwise": "counterclockwise", "counterclockwise": "clockwise", "anticlockwise": "clockwise",
}  # fmt: skip


def mirrored_labels(class_names: list[str]) -> list[int]:
    """For each class, the class a horizontally flipped video of it belongs to.

    A class name whose words change under a flip ("translate_left", "rotate_cw", "Pushing something from
    left to right") maps to the class named with those words swapped ("translate_right", "rotate_ccw",
    "Pushing something from right to left"); every other class maps to itself. A flip-sensitive class
    without its mirror image among the classes raises: flipping it would produce a video of no class.
    """
    index = {name.lower(): i for i, name in enumerate(class_names)}
    mirrored = []
    for name in class_names:
        flipped = re.sub(r"[a-z]+", lambda word: MIRRORED_WORDS.get(word[0], word[0]), name.lower())
        if flipped not in index:  # "clockwise" mirrors to "anticlockwise" in some label sets
            flipped = re.sub(r"\bcounterclockwise\b", "anticlockwise", flipped)
        if flipped != name.lower() and flipped not in index:
            raise ValueError(
                f"class {name!r} changes under a horizontal flip but its mirror image {flipped!r} is not a "
                "class: train without flips (flip_p=0, finetune.py --flip_p 0)"
            )
        mirrored.append(index.get(flipped, index[name.lower()]))
    return mirrored


class VideoClassificationCollator(TrainerCallback):
    """Examples ``{video_column: video, label_column: int}`` -> ``{"pixel_values_videos", "labels"}`` (the clips under
the processor's own input name: ``pixel_values`` for transformers' VideoMAE processor).

    With `Trainer`, pass the same object as ``data_collator`` and in ``callbacks``: as a callback it switches itself to
    evaluation clips for every evaluation (and after training) and back to training clips for training (``train``
    sets the mode it starts in: ``train=False`` for a `Trainer` that only evaluates). `Trainer` also needs
    ``remove_unused_columns=False`` to hand it the video column.

    Training: one 1x clip at a random start, random resized crop (``crop_scale``, default the processor's
    pre-training crop scale), and a horizontal flip with probability ``flip_p`` that also flips the label: ``mirrored_labels(class_names)`` maps left to right
    and clockwise to counter-clockwise (SynthMotion's translate_left <-> translate_right, rotate_cw <->
    rotate_ccw), so a flipped clip never keeps a label that no longer describes it. Without
    ``class_names`` the flip keeps the label (appearance classes); ``flip_p=0`` turns flips off.
    Evaluation: the middle 1x clip, resized and centre-cropped by the model's video processor.
    Unreadable videos are dropped from the batch, logged and listed in ``unreadable`` (path -> reason, each once;
    per DataLoader worker process). A batch with none readable repeats the last readable example this collator
    made, so that a long `Trainer` run goes on; when no video has been readable yet, it takes the first readable
    example of ``fallback`` (a dataset, e.g. the one being trained on), and raises only without one.
    """

    def __init__(
        self,
        processor,
        train: bool = True,
        video_column: str = "video",
        label_column: str = "label",
        backend: str = "torchcodec",
        crop_scale: tuple[float, float] | None = None,
        flip_p: float = 0.5,
        class_names: list[str] | None = None,
        fallback=None,
    ):
        self.processor = processor
        self.input_name = processor.model_input_names[0]
        self.fallback = fallback
        self.train = train
        self.video_column = video_column
        self.label_column = label_column
        self.backend = backend
        size = processor.crop_size.height
        crop_scale = tuple(crop_scale or getattr(processor, "crop_scale", (0.25, 1.0)))
        self.augment = ClipAugmentation(size=size, scale=crop_scale, flip_p=0.0, color_jitter=None, grayscale_p=0.0)
        self.flip_p = flip_p
        self.mirrored = mirrored_labels(class_names) if class_names is not None else None
        self.unreadable: dict[str, str] = {}
        self._last_readable: tuple[torch.Tensor, int] | None = None

    # TrainerCallback: training clips while training, evaluation clips for each evaluation and after training.
    def on_train_begin(self, args, state, control, **kwargs):
        self.train = not getattr(args, "eval_on_start", False)

    def on_step_end(self, args, state, control, **kwargs):
        if control.should_evaluate:  # set by the Trainer's flow callback, which runs first; evaluation follows
            self.train = False

    on_epoch_end = on_step_end  # eval_strategy="epoch" decides at the epoch's end

    def on_evaluate(self, args, state, control, **kwargs):
        self.train = 0 < state.global_step < state.max_steps  # back to training clips only in mid-training

    def on_train_end(self, args, state, control, **kwargs):
        self.train = False

    def _clip(self, video, label: int) -> tuple[torch.Tensor, int]:
        clip_len = self.processor.num_frames
        with open_video(video, backend=self.backend) as reader:
            num_frames = reader.metadata.num_frames
            if self.train:
                rng = np.random.default_rng(int(torch.randint(2**62, ())))  # torch's RNG is seeded per worker
                frames = reader.get_frames(random_clip(num_frames, clip_len, rng))
            else:
                frames = reader.get_frames(uniform_clips(num_frames, clip_len, num_clips=1)[0])
        if not self.train:
            return self.processor([frames], do_sample_frames=False, return_tensors="pt")[self.input_name][0], label
        clip = self.augment(frames)
        if torch.rand(()) < self.flip_p:
            clip = clip.flip(-1)
            label = label if self.mirrored is None else self.mirrored[label]
        return normalize(clip, self.processor.image_mean, self.processor.image_std), label

    def _readable_clip(self, example: dict, errors: list[str]) -> tuple[torch.Tensor, int] | None:
        """(clip, label), or None for an unreadable video (logged, listed in ``unreadable`` and ``errors``)."""
        try:
            return self._clip(example[self.video_column], int(example[self.label_column]))
        except (VideoDecodeError, IndexError) as error:
            errors.append(str(error))
            self.unreadable[video_name(example[self.video_column])] = str(error)
            logger.warning("dropping unreadable video from the batch: %s", error)
            return None

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        clips, labels, errors = [], [], []
        for example in examples:
            made = self._readable_clip(example, errors)
            if made is not None:
                clips.append(made[0])
                labels.append(made[1])
        if not clips:
            if self._last_readable is None and self.fallback is not None:
                self._last_readable = next(
                    (made for example in self.fallback if (made := self._readable_clip(example, errors))), None
                )
            if self._last_readable is None:
                raise VideoDecodeError("<batch>", "no readable video in the batch: " + "; ".join(errors))
            logger.warning("no readable video in this batch: repeating the last readable example")
            clips, labels = [self._last_readable[0]], [self._last_readable[1]]
        self._last_readable = (clips[-1], labels[-1])
        return {self.input_name: torch.stack(clips), "labels": torch.tensor(labels)}


def readable_videos(dataset, video_column: str = "video", backend: str = "torchcodec"):
    """``(dataset without its unreadable videos, {video: reason})``: every video is opened once (its header and
    index, no frame decoded), so an evaluation sees whole batches and scores each readable video exactly once.
    A video that opens but fails later, while its frames are decoded, is still handled by the collator."""
    unreadable: dict[str, str] = {}

    def opens(example) -> bool:
        try:
            open_video(example[video_column], backend=backend).close()
            return True
        except VideoDecodeError as error:
            unreadable[video_name(example[video_column])] = str(error)
            logger.warning("leaving out unreadable video: %s", error)
            return False

    keep = [index for index, example in enumerate(dataset) if opens(example)]
    return (dataset if len(keep) == len(dataset) else dataset.select(keep)), unreadable

