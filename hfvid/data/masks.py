"""Token masks for masked and predictive video pre-training: pure functions of a token grid and a NumPy RNG.

A grid is ``(t, h, w)``: time steps (frames / tubelet size) and the spatial patch grid. Every mask is a flat
boolean array of ``t * h * w`` tokens in the order a video ViT flattens them (time, then rows, then columns), True
where a token is masked (hidden from the encoder), as transformers' ``bool_masked_pos``.

- `tube_mask` (VideoMAE): the same spatial positions masked at every time step (tubes), exactly
  ``round(ratio * h * w)`` of them.
- `random_mask`: exactly ``round(ratio * t * h * w)`` tokens anywhere.
- `multiblock_mask` (V-JEPA): the union of ``num_blocks`` spatial rectangles, each of ``scale`` of the frame's area
  with an aspect ratio drawn from ``aspect_ratio``, spanning every time step; V-JEPA predicts that union (the
  target) from the rest (the context). `vjepa_masks` draws V-JEPA's two kinds: short-range (8 blocks at scale
  0.15) and long-range (2 blocks at scale 0.7), as in facebookresearch/jepa's ``configs/pretrain/vitl16.yaml``.

The same RNG state gives the same mask (tests check ratio, shape and determinism by seed).
"""

from __future__ import annotations

import math

import numpy as np

Grid = tuple[int, int, int]


def _check(grid: Grid, ratio: float | None = None) -> None:
    if len(grid) != 3 or not all(isinstance(n, (int, np.integer)) and n > 0 for n in grid):
        raise ValueError(f"a token grid is (t, h, w) positive ints, got {grid}")
    if ratio is not None and not 0.0 <= ratio < 1.0:
        raise ValueError(f"mask ratio must be in [0, 1), got {ratio}")


def tube_mask(grid: Grid, ratio: float, rng: np.random.Generator) -> np.ndarray:
    """VideoMAE's tube masking: ``round(ratio * h * w)`` spatial positions, masked at every time step."""
    _check(grid, ratio)
    t, h, w = grid
    spatial = np.zeros(h * w, dtype=bool)
    spatial[rng.choice(h * w, size=round(ratio * h * w), replace=False)] = True
    return np.tile(spatial, t)


def random_mask(grid: Grid, ratio: float, rng: np.random.Generator) -> np.ndarray:
    """``round(ratio * t * h * w)`` tokens masked, anywhere."""
    _check(grid, ratio)
    total = int(np.prod(grid))
    mask = np.zeros(total, dtype=bool)
    mask[rng.choice(total, size=round(ratio * total), replace=False)] = True
    return mask


def multiblock_mask(
    grid: Grid,
    rng: np.random.Generator,
    num_blocks: int,
    scale: float,
    aspect_ratio: tuple[float, float] = (0.75, 1.5),
) -> np.ndarray:
    """The union of ``num_blocks`` rectangles of ``scale`` of the frame's area (aspect ratio height / width drawn
    log-uniformly from ``aspect_ratio``; one size for all blocks of the mask, as V-JEPA draws it), each at a random
    place and spanning every time step. True where masked (the prediction target)."""
    _check(grid)
    t, h, w = grid
    if not 0.0 < scale <= 1.0 or num_blocks < 1:
        raise ValueError(f"need 0 < scale <= 1 and num_blocks >= 1, got {scale}, {num_blocks}")
    aspect = math.exp(rng.uniform(math.log(aspect_ratio[0]), math.log(aspect_ratio[1])))
    area = scale * h * w
    block_h = int(np.clip(round(math.sqrt(area * aspect)), 1, h))
    block_w = int(np.clip(round(math.sqrt(area / aspect)), 1, w))
    spatial = np.zeros((h, w), dtype=bool)
    for _ in range(num_blocks):
        top, left = rng.integers(h - block_h + 1), rng.integers(w - block_w + 1)
        spatial[top : top + block_h, left : left + block_w] = True
    return np.tile(spatial.reshape(-1), t)


def vjepa_masks(grid: Grid, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """V-JEPA's two target masks for one video: ``{"short_range": 8 blocks at 0.15, "long_range": 2 blocks at
    0.7}``; each one's context is its complement."""
    return {
        "short_range": multiblock_mask(grid, rng, num_blocks=8, scale=0.15),
        "long_range": multiblock_mask(grid, rng, num_blocks=2, scale=0.7),
    }
