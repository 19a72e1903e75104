"""Temporal tasks: the pair samplers on frame indices, the decoded pairs, and Motion/Sync/Order end to end."""

from __future__ import annotations

import datasets
import numpy as np
import pytest
import torch
from transformers.modeling_outputs import BaseModelOutputWithPooling

import hfvid
from hfvid.data.synthetic import load_synthmotion
from hfvid.evaluation.temporal import (
    TEMPORAL_TASKS,
    default_sync_offsets,
    order_pair,
    pair_feature,
    pair_features,
    run_temporal_tasks,
    sample_pairs,
    sync_pair,
)
from hfvid.models.transrank import TransRankModel, TransRankVideoProcessor


def test_default_sync_offsets_are_quarters_of_the_clip():
    assert default_sync_offsets(8) == (0, 2, 4, 6)
    assert default_sync_offsets(16) == (0, 4, 8, 12)
    with pytest.raises(ValueError, match="at least 4 frames"):
        default_sync_offsets(3)


@pytest.mark.parametrize("offsets", [None, (0, 3, 5)])
def test_sync_pair_offsets_are_exact(offsets):
    expected = default_sync_offsets(8) if offsets is None else offsets
    for offset_class, offset in enumerate(expected):
        for seed in range(20):
            first, second = sync_pair(40, 8, offset_class, np.random.default_rng(seed), offsets)
            assert np.array_equal(np.diff(first), np.ones(7)) and np.array_equal(second - first, np.full(8, offset))
            assert second.max() < 40


def test_sync_pair_position_does_not_depend_on_the_class():
    # The start is drawn over the range where the largest offset fits, for every class.
    starts = {sync_pair(30, 8, c, np.random.default_rng(7))[0][0] for c in range(4)}
    assert len(starts) == 1
    all_starts = {sync_pair(30, 8, 0, np.random.default_rng(seed))[0][0] for seed in range(200)}
    assert all_starts == set(range(30 - 8 - 6 + 1))


def test_sync_pair_rejects_bad_classes_and_offsets():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="offset_class"):
        sync_pair(40, 8, 4, rng)
    with pytest.raises(ValueError, match="distinct"):
        sync_pair(40, 8, 0, rng, offsets=(0, 2, 2))
    with pytest.raises(ValueError, match="clip_len"):
        sync_pair(40, 0, 0, rng)


def test_order_pair_clips_do_not_overlap_and_label_is_the_order():
    labels = []
    for seed in range(200):
        first, second, label = order_pair(30, 8, np.random.default_rng(seed))
        assert np.array_equal(np.diff(first), np.ones(7)) and np.array_equal(np.diff(second), np.ones(7))
        assert not set(first) & set(second)
        assert label == int(first[0] < second[0])
        labels.append(label)
    assert 0.35 < np.mean(labels) < 0.65


def test_pair_samplers_are_deterministic():
    def draw(seed):
        rng = np.random.default_rng(seed)
        return [*sync_pair(50, 8, 2, rng), *order_pair(50, 8, rng)[:2]]

    assert all(np.array_equal(a, b) for a, b in zip(draw(3), draw(3)))
    assert not all(np.array_equal(a, b) for a, b in zip(draw(3), draw(4)))


@pytest.mark.parametrize("num_frames", [1, 5, 10, 15])
def test_short_videos_stay_in_range(num_frames):
    rng = np.random.default_rng(0)
    for offset_class in range(4):
        for indices in sync_pair(num_frames, 8, offset_class, rng):
            assert len(indices) == 8 and 0 <= indices.min() and indices.max() < num_frames
    first, second, label = order_pair(num_frames, 8, rng)
    earlier, later = (first, second) if label else (second, first)
    assert earlier.max() < num_frames and later.max() < num_frames
    assert np.all(np.diff(earlier) >= 0) and np.all(np.diff(later) >= 0)  # "clamp": never wraps back
    assert earlier[0] <= later[0]


def test_sync_classes_are_balanced_within_a_video():
    pairs = sample_pairs("sync", 40, 8, 4, np.random.default_rng(0))
    assert sorted(label for _, _, label in pairs) == [0, 1, 2, 3]
    pairs = sample_pairs("sync", 40, 8, 8, np.random.default_rng(0))
    assert np.bincount([label for _, _, label in pairs]).tolist() == [2, 2, 2, 2]
    with pytest.raises(ValueError, match="unknown pair task"):
        sample_pairs("motion", 40, 8, 4, np.random.default_rng(0))


def test_pair_feature_is_both_features_and_their_difference():
    first, second = torch.tensor([[1.0, 2.0]]), torch.tensor([[4.0, 3.0]])
    assert pair_feature(first, second).tolist() == [[1.0, 2.0, 4.0, 3.0, -3.0, -1.0]]


class FrameIndexModel(torch.nn.Module):
    """Reads back, per clip, the index of every frame of a `numbered_frames` video (brightness 8 + 4 i):
    pair features then show exactly which frames the pairs were decoded from."""

    def __init__(self, processor):
        super().__init__()
        self.anchor = torch.nn.Parameter(torch.zeros(()))  # gives the model a device
        self.mean, self.std = processor.image_mean[0], processor.image_std[0]

    def forward(self, pixel_values_videos):
        brightness = (pixel_values_videos[:, :, 0].mean(dim=(2, 3)) * self.std + self.mean) * 255
        return BaseModelOutputWithPooling(pooler_output=((brightness - 8) / 4).round())


@pytest.mark.parametrize("task", ["sync", "order"])
def test_pair_features_decode_the_sampled_frames(numbered_mp4, task):
    config = hfvid.get_config("transrank-r3d18-tiny")
    processor = TransRankVideoProcessor.from_model_config(config)
    dataset = datasets.Dataset.from_dict({"video": [numbered_mp4] * 3})
    dataset = dataset.cast_column("video", datasets.Video(decode=False))
    model = FrameIndexModel(processor)
    # 3 pairs per video, 5 pairs per model call: calls straddle videos
    features, labels = pair_features(model, processor, dataset, task, 3, batch_size=5, progress=False)
    assert features.shape == (9, 3 * config.num_frames) and labels.shape == (9,)
    first, second, difference = features.split(config.num_frames, dim=1)
    assert torch.equal(difference, first - second)
    for index, label in enumerate(labels.tolist()):
        expected = sample_pairs(task, 60, 8, 3, np.random.default_rng([0, index // 3]))[index % 3]
        assert first[index].tolist() == expected[0].tolist() and second[index].tolist() == expected[1].tolist()
        assert label == expected[2]


@pytest.fixture(scope="module")
def tiny_model_and_splits(synthmotion_dir):
    config = hfvid.get_config("transrank-r3d18-tiny")
    torch.manual_seed(0)
    model, processor = TransRankModel(config), TransRankVideoProcessor.from_model_config(config)
    train = load_synthmotion(synthmotion_dir, split="train", decode=False)
    test = load_synthmotion(synthmotion_dir, split="test", decode=False)
    return model, processor, train, test


def test_temporal_tasks_end_to_end(tiny_model_and_splits):
    model, processor, train, test = tiny_model_and_splits
    results = run_temporal_tasks(model, processor, train, test, progress=False)
    assert set(results) == {f"{task}_{kind}" for task in TEMPORAL_TASKS for kind in ("top1", "chance")}
    assert all(isinstance(value, float) and 0 <= value <= 1 for value in results.values())
    assert results["motion_chance"] == 1 / 8  # one test video per class
    assert results["sync_chance"] == 1 / 4  # 4 pairs per video, one per offset class
    assert 0.5 <= results["order_chance"] < 1
    again = run_temporal_tasks(model, processor, train, test, tasks=("order",), progress=False)
    assert again == {key: results[key] for key in ("order_top1", "order_chance")}
