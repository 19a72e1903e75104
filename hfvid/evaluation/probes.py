"""Classification probes on frozen features: weighted kNN, a linear (logistic-regression) probe, and an attentive
probe on frozen tokens.

All leave the backbone untouched and measure how linearly / locally separable its features are,
the frozen-feature protocols of the SSL literature (InstDisc, DINO, solo-learn); the attentive probe (V-JEPA's)
lets a learnt query pick which of a video's tokens to read, for encoders whose mean-pooled tokens say little.
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


class AttentiveProbe(torch.nn.Module):
    """V-JEPA's attentive probe: a learnt query token reads the frozen tokens through one cross-attention block
    (pre-norm multi-head cross-attention, then a residual MLP of width 4 x D), and a linear layer classifies it."""

    def __init__(self, dim: int, num_classes: int, num_heads: int):
        super().__init__()
        self.query = torch.nn.Parameter(torch.zeros(1, 1, dim))
        self.norm_tokens = torch.nn.LayerNorm(dim)
        self.attention = torch.nn.MultiheadAttention(dim, num_heads, batch_first=True)
        self.norm_mlp = torch.nn.LayerNorm(dim)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(dim, 4 * dim), torch.nn.GELU(), torch.nn.Linear(4 * dim, dim))
        self.classifier = torch.nn.Linear(dim, num_classes)
        torch.nn.init.trunc_normal_(self.query, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(batch, tokens, dim) -> (batch, classes) logits."""
        keys = self.norm_tokens(tokens)
        pooled = self.attention(self.query.expand(len(tokens), -1, -1), keys, keys, need_weights=False)[0]
        pooled = pooled + self.mlp(self.norm_mlp(pooled))
        return self.classifier(pooled[:, 0])


def attention_heads(dim: int) -> int:
    """Heads of the attentive probe for ``dim``-wide tokens: the most of 16, 8, 4, 2 that leave heads of >= 16
    dimensions (V-JEPA: 16 heads of 64 for ViT-L), else 1."""
    return next((heads for heads in (16, 8, 4, 2) if dim % heads == 0 and dim // heads >= 16), 1)


def attentive_probe(
    train_tokens: torch.Tensor,
    train_labels: torch.Tensor | np.ndarray,
    test_tokens: torch.Tensor,
    test_labels: torch.Tensor | np.ndarray,
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 0.01,
    seed: int = 0,
    num_classes: int | None = None,
) -> dict:
    """An `AttentiveProbe` trained on frozen tokens (N, tokens, D): AdamW, ``epochs`` passes of mini-batches of
    ``batch_size`` videos in a seeded order, the learning rate warmed up over the first epoch and then cosine-decayed
    (V-JEPA's probe recipe, shortened: 20 epochs by default). Deterministic for a ``seed``.

    Returns ``{"attentive_top1": accuracy, "predictions": (N_test,) LongTensor, "confusion": (C, C) LongTensor}``.
    """
    train_tokens, test_tokens = torch.as_tensor(train_tokens).detach().float(), torch.as_tensor(test_tokens).detach().float()
    if train_tokens.ndim != 3 or test_tokens.ndim != 3 or train_tokens.shape[2] != test_tokens.shape[2]:
        raise ValueError(
            f"the attentive probe takes (videos, tokens, dim) tokens of one width, got {tuple(train_tokens.shape)} and "
            f"{tuple(test_tokens.shape)}"
        )
    train_labels = as_labels(train_labels, len(train_tokens), "train_labels")
    test_labels = as_labels(test_labels, len(test_tokens), "test_labels")
    if epochs < 1:
        raise ValueError(f"epochs must be positive, got {epochs}")
    num_classes = _resolve_num_classes(num_classes, train_labels, test_labels)
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        probe = AttentiveProbe(train_tokens.shape[2], num_classes, attention_heads(train_tokens.shape[2]))
    steps_per_epoch = -(-len(train_tokens) // batch_size)
    total = epochs * steps_per_epoch
    optimizer = torch.optim.AdamW(probe.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: (step + 1) / steps_per_epoch if step < steps_per_epoch
        else 0.5 * (1 + np.cos(np.pi * (step - steps_per_epoch) / max(1, total - steps_per_epoch))),
    )  # fmt: skip
    with torch.enable_grad():
        probe.train()
        for _ in range(epochs):
            order = torch.randperm(len(train_tokens), generator=generator)
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                loss = F.cross_entropy(probe(train_tokens[batch]), train_labels[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
    probe.eval()
    with torch.no_grad():
        predictions = torch.cat([probe(test_tokens[i : i + 256]).argmax(dim=1) for i in range(0, len(test_tokens), 256)])
    return {
        "attentive_top1": (predictions == test_labels).double().mean().item(),
        "predictions": predictions,
        "confusion": confusion_matrix(test_labels, predictions, num_classes),
    }
