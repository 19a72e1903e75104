"""Retrieval: the chunked top-k search and R@k against brute force on the full similarity matrix."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hfvid.evaluation.plots import plot_recall_curve, plot_seed_comparison, plot_sweep
from hfvid.evaluation.retrieval import RECALL_KS, retrieval_recall, topk_cosine_neighbours


def random_set(num_items: int, dim: int = 16, num_classes: int = 10, seed: int = 0):
    """Continuous random features (no tied similarities) with random labels."""
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(num_items, dim, generator=generator)
    labels = torch.randint(0, num_classes, (num_items,), generator=generator)
    return features, labels


def full_similarities(queries: torch.Tensor, gallery: torch.Tensor) -> torch.Tensor:
    return F.normalize(queries, dim=1) @ F.normalize(gallery, dim=1).T


def brute_force_recall(queries, query_labels, gallery, gallery_labels, ks) -> dict[str, float]:
    """R@k from a full argsort of the Q x G similarity matrix, one query at a time."""
    order = full_similarities(queries, gallery).argsort(dim=1, descending=True).numpy()
    gallery_labels, query_labels = gallery_labels.numpy(), query_labels.numpy()
    recalls = {}
    for k in ks:
        hits = [query_labels[q] in set(gallery_labels[order[q, :k]]) for q in range(len(query_labels))]
        recalls[f"R@{k}"] = float(np.mean(hits))
    return recalls


@pytest.mark.parametrize("chunk_size", [7, 50, 64, 4096])
@pytest.mark.parametrize("k", [1, 13, 100])
def test_topk_matches_full_matrix(chunk_size, k):
    # 203 queries and 317 gallery items: no chunk size divides both; k = 13 and 100 exceed chunk 7.
    queries, _ = random_set(203, seed=1)
    gallery, _ = random_set(317, seed=2)
    similarities, indices = topk_cosine_neighbours(queries, gallery, k, chunk_size=chunk_size)
    expected_similarities, expected_indices = full_similarities(queries, gallery).topk(k, dim=1)
    assert indices.shape == (203, k) and indices.dtype == torch.long
    assert torch.equal(indices, expected_indices)
    torch.testing.assert_close(similarities, expected_similarities, rtol=0, atol=1e-5)
    assert (similarities[:, :-1] >= similarities[:, 1:]).all()  # sorted, best first


def test_topk_normalises_and_accepts_numpy():
    queries, _ = random_set(40, seed=3)
    gallery, _ = random_set(60, seed=4)
    scales = torch.rand(60, 1) * 100 + 0.01  # cosine similarity ignores each item's norm
    _, expected = topk_cosine_neighbours(queries, gallery, 5)
    queries, gallery = queries.double().numpy(), (gallery * scales).numpy()
    similarities, indices = topk_cosine_neighbours(queries, gallery, 5, chunk_size=9)
    assert torch.equal(indices, expected)
    assert similarities.dtype == torch.float32 and similarities.max() <= 1 + 1e-6


@pytest.mark.parametrize("chunk_size", [5, 33, 128, 4096])
def test_recall_matches_brute_force(chunk_size):
    queries, query_labels = random_set(150, num_classes=20, seed=5)
    gallery, gallery_labels = random_set(257, num_classes=20, seed=6)
    recalls = retrieval_recall(queries, query_labels, gallery, gallery_labels, chunk_size=chunk_size)
    expected = brute_force_recall(queries, query_labels, gallery, gallery_labels, RECALL_KS)
    assert list(recalls) == ["R@1", "R@5", "R@10", "R@20", "R@50"]
    assert recalls == expected
    values = list(recalls.values())
    assert 0 < values[0] < values[-1] < 1 and values == sorted(values)  # informative, monotone in k


def test_recall_on_a_hand_made_example():
    # Gallery on the unit circle; each query sits closest to the gallery item at the same angle.
    angles = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0])
    gallery = torch.stack([angles.cos(), angles.sin()], dim=1)
    gallery_labels = torch.tensor([0, 1, 2, 0, 1])
    queries = torch.stack([(angles[:3] + 0.1).cos(), (angles[:3] + 0.1).sin()], dim=1)
    # Query 0: neighbours 0, 1, 2, ... -> class 0 at rank 1. Query 1 (class 0): neighbours 1, 2, 0/3.
    # Query 2 (class 0): neighbours 2, 3 -> class 0 at rank 2.
    recalls = retrieval_recall(queries, torch.tensor([0, 0, 0]), gallery, gallery_labels, ks=(1, 2, 3))
    assert recalls == pytest.approx({"R@1": 1 / 3, "R@2": 2 / 3, "R@3": 1.0})


def test_ks_larger_than_the_gallery_are_clipped():
    gallery, gallery_labels = random_set(10, num_classes=3, seed=7)
    queries, _ = random_set(30, seed=8)
    query_labels = torch.cat([gallery_labels, gallery_labels, torch.full((10,), 99)])  # class 99 not in gallery
    recalls = retrieval_recall(queries, query_labels, gallery, gallery_labels, ks=(10, 50))
    assert recalls["R@10"] == recalls["R@50"] == pytest.approx(2 / 3)


def test_query_set_equal_to_gallery_finds_itself():
    features, labels = random_set(100, num_classes=50, seed=9)
    assert retrieval_recall(features, labels, features, labels, ks=(1,), chunk_size=16) == {"R@1": 1.0}


def valid_inputs() -> dict:
    return {
        "query_features": torch.randn(5, 4),
        "query_labels": torch.zeros(5, dtype=torch.long),
        "gallery_features": torch.randn(6, 4),
        "gallery_labels": torch.zeros(6, dtype=torch.long),
    }


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("query_labels", torch.zeros(4, dtype=torch.long), "query_labels has 4 entries"),
        ("gallery_labels", torch.zeros(7, dtype=torch.long), "gallery_labels has 7 entries"),
        ("query_features", torch.randn(0, 4), "query_features must be a non-empty"),
        ("query_features", torch.randn(5), "query_features must be a non-empty"),
        ("gallery_features", torch.randn(6, 3), "dimension"),
        ("query_labels", torch.zeros(5), "query_labels must be a 1-D integer"),
    ],
)
def test_invalid_inputs_raise(name, value, message):
    with pytest.raises(ValueError, match=message):
        retrieval_recall(**{**valid_inputs(), name: value})


def test_topk_rejects_k_beyond_the_gallery():
    with pytest.raises(ValueError, match="k must be"):
        topk_cosine_neighbours(torch.randn(3, 4), torch.randn(5, 4), 6)


def test_plot_recall_curve_writes_a_png(tmp_path):
    results = {
        "TransRank": {"R@1": 0.54, "R@5": 0.71, "R@10": 0.78, "R@20": 0.85, "R@50": 0.92},
        "random init": {"R@1": 0.10, "R@5": 0.20, "R@10": 0.28, "R@20": 0.38, "R@50": 0.55},
    }
    path = plot_recall_curve(results, tmp_path / "figures" / "recall.png")
    with open(path, "rb") as file:
        content = file.read()
    assert content.startswith(b"\x89PNG") and len(content) > 5000


def test_plot_seed_comparison_draws_each_model_seed_and_chance(tmp_path):
    values = {
        "NextFrame": {"Linear probe top-1": [94.9, 96.1, 93.0], "kNN top-1": [90.6, 92.2, 87.1]},
        "random init": {"Linear probe top-1": [47.3, 43.4, 35.5], "kNN top-1": [25.8, 19.9, 19.1]},
    }
    path = plot_seed_comparison(values, {"Linear probe top-1": 12.5, "kNN top-1": 12.5}, tmp_path / "seeds.png")
    with open(path, "rb") as file:
        assert file.read().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_seed_comparison({}, {}, tmp_path / "empty.png")


def test_plot_sweep_draws_each_model_over_the_setting(tmp_path):
    values = {"random weights": {1e-3: [47.7, 52.7, 36.7], 1e-2: [67.6, 82.0, 75.8]}, "TransRank": {1e-3: [73.0, 63.3], 1e-2: [87.9]}}
    path = plot_sweep(values, 12.5, tmp_path / "sweep.png", xlabel="learning rate")
    with open(path, "rb") as file:
        assert file.read().startswith(b"\x89PNG")
    assert plot_sweep({"linear": {0.0: [10.0], 1.0: [20.0, 30.0]}}, None, tmp_path / "linear.png", xlabel="x")
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_sweep({}, None, tmp_path / "empty.png", xlabel="x")
