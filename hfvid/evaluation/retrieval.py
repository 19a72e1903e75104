"""Nearest-neighbour video retrieval on frozen features (the protocol of TransRank, after VCOP).

Each test video's feature is a query against all training videos (the gallery); R@k is the share
of queries whose k nearest gallery items (cosine similarity) contain a video of the query's class.
Similarities are computed in blocks of queries x gallery items with a running top-k, so memory
stays bounded for 100k x 100k without ever holding the full similarity matrix.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

RECALL_KS = (1, 5, 10, 20, 50)


def as_features(features: torch.Tensor | np.ndarray, name: str) -> torch.Tensor:
    """Features as a non-empty (N, D) float32 tensor (numpy arrays are accepted)."""
    features = torch.as_tensor(features)
    if features.ndim != 2 or features.shape[0] == 0 or features.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty (N, D) array, got shape {tuple(features.shape)}")
    if features.is_complex() or features.dtype == torch.bool:
        raise ValueError(f"{name} must hold real numbers, got {features.dtype}")
    return features.float()


def as_labels(labels: torch.Tensor | np.ndarray, num_items: int, name: str) -> torch.Tensor:
    """Labels as an (N,) int64 tensor, checked against the number of feature rows."""
    labels = torch.as_tensor(labels)
    if labels.ndim != 1 or labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise ValueError(f"{name} must be a 1-D integer array, got {labels.dtype} of shape {tuple(labels.shape)}")
    if labels.shape[0] != num_items:
        raise ValueError(f"{name} has {labels.shape[0]} entries but the features have {num_items} rows")
    return labels.long()


def topk_cosine_neighbours(
    queries: torch.Tensor | np.ndarray,
    gallery: torch.Tensor | np.ndarray,
    k: int,
    chunk_size: int = 4096,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact k nearest gallery items of every query by cosine similarity.

    Returns ``(similarities, indices)``, both (Q, k) on the CPU, sorted by decreasing similarity.
    Features are L2-normalised inside, in float32 (the gallery once, as a copy). Blocks of
    ``chunk_size`` queries meet blocks of ``chunk_size`` gallery items; each block's top-k is
    merged into a running top-k, so the extra memory is O(chunk_size^2 + chunk_size * k) whatever
    Q and G are. ``device`` (default: the queries' device) is where the products are computed.
    """
    queries = as_features(queries, "queries")
    gallery = as_features(gallery, "gallery")
    if queries.shape[1] != gallery.shape[1]:
        raise ValueError(f"queries have dimension {queries.shape[1]} but the gallery has {gallery.shape[1]}")
    if not 1 <= k <= gallery.shape[0]:
        raise ValueError(f"k must be in [1, {gallery.shape[0]}] (the gallery size), got {k}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    device = torch.device(device) if device is not None else queries.device
    gallery = F.normalize(gallery.to(device), dim=1)
    num_queries, num_gallery = queries.shape[0], gallery.shape[0]
    top_similarities = torch.empty((num_queries, k))
    top_indices = torch.empty((num_queries, k), dtype=torch.long)
    # One buffer for every block's similarities: no 64 MiB allocation (and page faults) per block.
    block_buffer = torch.empty(min(chunk_size, num_queries) * min(chunk_size, num_gallery), device=device)
    for query_start in range(0, num_queries, chunk_size):
        query_block = F.normalize(queries[query_start : query_start + chunk_size].to(device), dim=1)
        best_similarities = torch.empty((query_block.shape[0], 0), device=device)
        best_indices = torch.empty((query_block.shape[0], 0), dtype=torch.long, device=device)
        for gallery_start in range(0, num_gallery, chunk_size):
            gallery_block = gallery[gallery_start : gallery_start + chunk_size]
            shape = (query_block.shape[0], gallery_block.shape[0])
            similarities = torch.mm(query_block, gallery_block.T, out=block_buffer[: shape[0] * shape[1]].view(shape))
            block_similarities, block_indices = similarities.topk(min(k, shape[1]), dim=1)
            merged_similarities = torch.cat([best_similarities, block_similarities], dim=1)
            merged_indices = torch.cat([best_indices, block_indices + gallery_start], dim=1)
            best_similarities, order = merged_similarities.topk(min(k, merged_similarities.shape[1]), dim=1)
            best_indices = merged_indices.gather(1, order)
        top_similarities[query_start : query_start + chunk_size] = best_similarities.cpu()
        top_indices[query_start : query_start + chunk_size] = best_indices.cpu()
    return top_similarities, top_indices


def retrieval_recall(
    query_features: torch.Tensor | np.ndarray,
    query_labels: torch.Tensor | np.ndarray,
    gallery_features: torch.Tensor | np.ndarray,
    gallery_labels: torch.Tensor | np.ndarray,
    ks: tuple[int, ...] = RECALL_KS,
    chunk_size: int = 4096,
) -> dict[str, float]:
    """Top-k retrieval recall ``{"R@1": ..., "R@5": ...}``, each in [0, 1].

    R@k is the share of queries whose k nearest gallery items (cosine similarity) contain at least
    one item of the query's class. A k larger than the gallery is clipped to the gallery size (then
    R@k is the share of queries whose class occurs in the gallery at all); the key keeps the
    requested k. Neighbours are searched once, for the largest k.
    """
    query_features = as_features(query_features, "query_features")
    gallery_features = as_features(gallery_features, "gallery_features")
    query_labels = as_labels(query_labels, query_features.shape[0], "query_labels")
    gallery_labels = as_labels(gallery_labels, gallery_features.shape[0], "gallery_labels")
    if not ks or min(ks) < 1:
        raise ValueError(f"ks must be a non-empty sequence of positive integers, got {ks}")
    max_k = min(max(ks), gallery_features.shape[0])
    _, indices = topk_cosine_neighbours(query_features, gallery_features, max_k, chunk_size=chunk_size)
    same_class = gallery_labels[indices] == query_labels[:, None]  # (Q, max_k)
    hit_within = same_class.cumsum(dim=1) > 0  # column j: a same-class item among the j + 1 nearest
    return {f"R@{k}": hit_within[:, min(k, max_k) - 1].double().mean().item() for k in ks}
