"""Mask samplers (hfvid/data/masks.py): ratio, shape, tube structure, block geometry, determinism by seed."""

import numpy as np
import pytest

from hfvid.data.masks import multiblock_mask, random_mask, tube_mask, vjepa_masks

GRID = (8, 14, 14)  # 16 frames in 2-frame tubelets, 224 px in 16 px patches


@pytest.mark.parametrize("ratio", [0.0, 0.5, 0.75, 0.9])
def test_tube_mask_masks_the_same_positions_at_every_time(ratio):
    mask = tube_mask(GRID, ratio, np.random.default_rng(0))
    assert mask.shape == (8 * 14 * 14,) and mask.dtype == bool
    per_time = mask.reshape(8, 14 * 14)
    assert (per_time == per_time[0]).all()
    assert per_time[0].sum() == round(ratio * 14 * 14)


@pytest.mark.parametrize("ratio", [0.0, 0.5, 0.9])
def test_random_mask_has_the_exact_ratio_and_varies_over_time(ratio):
    mask = random_mask(GRID, ratio, np.random.default_rng(0))
    assert mask.sum() == round(ratio * mask.size)
    if ratio:
        per_time = mask.reshape(8, -1)
        assert not (per_time == per_time[0]).all()


@pytest.mark.parametrize("sampler", [
    lambda rng: tube_mask(GRID, 0.9, rng),
    lambda rng: random_mask(GRID, 0.9, rng),
    lambda rng: multiblock_mask(GRID, rng, num_blocks=8, scale=0.15),
])
def test_the_same_seed_gives_the_same_mask(sampler):
    first, again = sampler(np.random.default_rng(7)), sampler(np.random.default_rng(7))
    other = sampler(np.random.default_rng(8))
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_multiblock_masks_are_rectangles_spanning_time():
    mask = multiblock_mask(GRID, np.random.default_rng(0), num_blocks=1, scale=0.15)
    per_time = mask.reshape(8, 14, 14)
    assert (per_time == per_time[0]).all()
    rows, cols = np.nonzero(per_time[0])
    height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert per_time[0].sum() == height * width  # one full rectangle
    assert 0.5 * 0.15 * 196 <= height * width <= 1.5 * 0.15 * 196
    assert 0.75 / 1.6 <= height / width <= 1.5 * 1.6  # aspect ratio within range (rounding to whole patches)


def test_vjepa_long_range_blocks_cover_more_than_short_range_ones():
    shares = {"short_range": [], "long_range": []}
    for seed in range(20):
        for name, mask in vjepa_masks(GRID, np.random.default_rng(seed)).items():
            shares[name].append(mask.mean())
    assert 0.2 < np.mean(shares["short_range"]) < 0.8  # 8 blocks of 15%, overlapping
    assert np.mean(shares["long_range"]) > np.mean(shares["short_range"])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="mask ratio"):
        tube_mask(GRID, 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="token grid"):
        random_mask((8, 14), 0.5, np.random.default_rng(0))
