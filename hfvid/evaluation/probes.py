"""Classification probes on frozen features: weighted kNN and a linear (logistic-regression) probe.

Both leave the backbone untouched and measure how linearly / locally separable its features are,
the frozen-feature protocols of the SSL literature (InstDisc, DINO, solo-learn).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from hfvid.evaluation.retrieval import as_features, as_labels, topk_cosine_neighbours


def _check_dimensions(train_features: torch.Tensor, test_features: torch.Tensor) -> None:
    if train_features.shape[1] != test_features.shape[1]:
        raise ValueError(
            f"train features have dimension {train_features.shape[1]} but test features have {test_features.shape[1]}"
        )


def _resolve_num_classes(num_classes: int | None, *label_sets: torch.Tensor) -> int:
    """``num_classes``, defaulting to the largest label + 1; every label must lie in [0, C)."""
    smallest = min(int(labels.min()) for labels in label_sets)
    largest = max(int(labels.max()) for labels in label_sets)
    num_classes = largest + 1 if num_classes is None else num_classes
    if smallest < 0 or largest >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes}), got labels in [{smallest}, {largest}]")
    return num_classes


def _weighted_vote(
    similarities: torch.Tensor, neighbour_labels: torch.Tensor, temperature: float, num_classes: int
) -> torch.Tensor:
    """Each neighbour votes for its class with weight exp(sim / T); returns the winning class.

    Similarities are shifted by each row's maximum first, which rescales a row's weights by one
    constant (same winner) and keeps exp from overflowing at small T.
    """
    weights = ((similarities - similarities[:, :1]) / temperature).exp()
    votes = torch.zeros(similarities.shape[0], num_classes).scatter_add_(1, neighbour_labels, weights)
    return votes.argmax(dim=1)


def knn_classify(
    train_features: torch.Tensor | np.ndarray,
    train_labels: torch.Tensor | np.ndarray,
    test_features: torch.Tensor | np.ndarray,
    k: int = 20,
    temperature: float = 0.07,
    num_classes: int | None = None,
    chunk_size: int = 4096,
) -> torch.Tensor:
    """Weighted kNN labels of the test features (InstDisc / DINO).

    The k nearest training items by cosine similarity each vote for their class with weight
    exp(sim / temperature); the class with the largest total wins (ties: the lowest class index).
    k = 20 and T = 0.07 are DINO's defaults; k is clipped to the training-set size.
    ``num_classes`` defaults to the largest training label + 1.
    """
    train_features = as_features(train_features, "train_features")
    test_features = as_features(test_features, "test_features")
    train_labels = as_labels(train_labels, train_features.shape[0], "train_labels")
    _check_dimensions(train_features, test_features)
    if k < 1 or temperature <= 0:
        raise ValueError(f"k must be positive and temperature > 0, got k={k}, temperature={temperature}")
    num_classes = _resolve_num_classes(num_classes, train_labels)
    k = min(k, train_features.shape[0])
    similarities, indices = topk_cosine_neighbours(test_features, train_features, k, chunk_size=chunk_size)
    return _weighted_vote(similarities, train_labels[indices], temperature, num_classes)


def knn_accuracy(
    train_features: torch.Tensor | np.ndarray,
    train_labels: torch.Tensor | np.ndarray,
    test_features: torch.Tensor | np.ndarray,
    test_labels: torch.Tensor | np.ndarray,
    k: int = 20,
    temperature: float = 0.07,
) -> dict[str, float]:
    """``{"knn_top1": weighted-kNN accuracy, "nn_top1": 1-NN accuracy}``, each in [0, 1].

    The neighbours are searched once; the 1-NN label is the nearest one's.
    """
    train_features = as_features(train_features, "train_features")
    test_features = as_features(test_features, "test_features")
    train_labels = as_labels(train_labels, train_features.shape[0], "train_labels")
    test_labels = as_labels(test_labels, test_features.shape[0], "test_labels")
    _check_dimensions(train_features, test_features)
    if k < 1 or temperature <= 0:
        raise ValueError(f"k must be positive and temperature > 0, got k={k}, temperature={temperature}")
    k = min(k, train_features.shape[0])
    similarities, indices = topk_cosine_neighbours(test_features, train_features, k)
    neighbour_labels = train_labels[indices]
    num_classes = _resolve_num_classes(None, train_labels)
    knn_predictions = _weighted_vote(similarities, neighbour_labels, temperature, num_classes)
    return {
        "knn_top1": (knn_predictions == test_labels).double().mean().item(),
        "nn_top1": (neighbour_labels[:, 0] == test_labels).double().mean().item(),
    }


def confusion_matrix(labels: torch.Tensor, predictions: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(C, C) counts: row = true class, column = predicted class."""
    flat = torch.bincount(labels * num_classes + predictions, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def linear_probe(
    train_features: torch.Tensor | np.ndarray,
    train_labels: torch.Tensor | np.ndarray,
    test_features: torch.Tensor | np.ndarray,
    test_labels: torch.Tensor | np.ndarray,
    epochs: int = 100,
    lr: float = 1.0,
    weight_decay: float = 1e-4,
    seed: int = 0,
    num_classes: int | None = None,
) -> dict:
    """Multinomial logistic regression on frozen, standardised features.

    Features are standardised with the training set's per-dimension mean and std. The convex loss
    ``mean cross-entropy + weight_decay / 2 * ||W||^2`` (bias not decayed) is minimised full-batch
    with L-BFGS (strong-Wolfe line search, step ``lr``) for at most ``epochs`` iterations, each at
    least one pass over the training set; no learning-rate schedule or batch order to tune, and
    the result is deterministic for a ``seed`` (which draws the N(0, 0.01^2) initial weights).
    weight_decay = 1e-4 equals scikit-learn's default C = 1 at ~10k training videos (UCF101).
    ``num_classes`` defaults to the largest train or test label + 1.

    Returns ``{"linear_top1": accuracy, "predictions": (N_test,) LongTensor,
    "confusion": (C, C) LongTensor with rows = true class, columns = predicted class}``.
    """
    train_features = as_features(train_features, "train_features").detach()
    test_features = as_features(test_features, "test_features").detach()
    train_labels = as_labels(train_labels, train_features.shape[0], "train_labels")
    test_labels = as_labels(test_labels, test_features.shape[0], "test_labels")
    _check_dimensions(train_features, test_features)
    if epochs < 1:
        raise ValueError(f"epochs must be positive, got {epochs}")
    num_classes = _resolve_num_classes(num_classes, train_labels, test_labels)

    mean = train_features.mean(dim=0)
    std = train_features.std(dim=0, unbiased=False)
    std = torch.where(std > 1e-8, std, torch.ones_like(std))  # constant dimensions stay centred, not blown up
    train_inputs = (train_features - mean) / std
    test_inputs = (test_features - mean) / std

    generator = torch.Generator().manual_seed(seed)
    weight = (torch.randn(num_classes, train_inputs.shape[1], generator=generator) * 0.01).requires_grad_()
    bias = torch.zeros(num_classes, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [weight, bias], lr=lr, max_iter=epochs, history_size=20, line_search_fn="strong_wolfe"
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(F.linear(train_inputs, weight, bias), train_labels)
        loss = loss + weight_decay / 2 * weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():  # callers often evaluate under torch.no_grad()
        optimizer.step(closure)
    with torch.no_grad():
        predictions = F.linear(test_inputs, weight, bias).argmax(dim=1)
    return {
        "linear_top1": (predictions == test_labels).double().mean().item(),
        "predictions": predictions,
        "confusion": confusion_matrix(test_labels, predictions, num_classes),
    }
