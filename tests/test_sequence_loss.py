"""CARL's sequence contrastive loss against a loop written from the paper's formula, and its limits."""

import math

import pytest
import torch

from hfvid.losses.sequence import sequence_contrastive_loss


def by_hand(a, b, s, t, variance, temperature):
    """KL(p || q) per frame, one direction, one video, with plain Python numbers."""
    total = 0.0
    for i in range(len(a)):
        weights = [math.exp(-((s[i] - t[j]) ** 2) / (2 * variance)) for j in range(len(b))]
        p = [w / sum(weights) for w in weights]
        cos = [sum(x * y for x, y in zip(a[i], b[j])) / (math.hypot(*a[i]) * math.hypot(*b[j])) for j in range(len(b))]
        exps = [math.exp(c / temperature) for c in cos]
        q = [e / sum(exps) for e in exps]
        total += sum(pj * math.log(pj / qj) for pj, qj in zip(p, q))
    return total / len(a)


def test_the_loss_is_the_papers_kl_symmetrised():
    a = [[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]
    b = [[0.8, 0.6], [-0.6, 0.8]]
    s, t = [0.0, 2.0, 5.0], [1.0, 4.0]
    expected = 0.5 * (by_hand(a, b, s, t, 10.0, 0.1) + by_hand(b, a, t, s, 10.0, 0.1))
    got = sequence_contrastive_loss(torch.tensor([a]), torch.tensor([b]), torch.tensor([s]), torch.tensor([t]))
    assert got.item() == pytest.approx(expected, rel=1e-5)


def test_aligned_embeddings_score_lower_than_shuffled_ones():
    time = torch.arange(16.0)
    aligned = torch.stack([torch.cos(time / 5), torch.sin(time / 5)], dim=-1)[None]
    shuffled = aligned[:, torch.randperm(16, generator=torch.Generator().manual_seed(0))]
    good = sequence_contrastive_loss(aligned, aligned, time[None], time[None], variance=1.0, temperature=0.05)
    bad = sequence_contrastive_loss(aligned, shuffled, time[None], time[None], variance=1.0, temperature=0.05)
    assert good < bad and good >= 0
    with pytest.raises(ValueError, match="timestamps must be"):
        sequence_contrastive_loss(aligned, aligned, time[None, :4], time[None])
