"""Frame-level evaluation on frozen per-frame features (issue 19: MV-Former, LSFD's non-stationary features, a video
ViT's per-frame tokens): the protocols of TCC / CARL / MV-Former and the action-segmentation metrics UVAST reports.

Per-frame features come as a list of (frames, dim) arrays, one per video; labels as a list of (frames,) integer arrays.

    phase_classification(train_feats, train_labels, test_feats, test_labels) -> {"phase_top1": %}
    phase_progression(train_feats, train_events, test_feats, test_events) -> {"progression_r2": R^2}
    kendalls_tau(feats) -> {"kendalls_tau": mean over ordered pairs of videos}
    frame_retrieval_ap(query_feats, query_labels, gallery_feats, gallery_labels, ks) -> {"ap@5": %, ...}
    segmentation_scores(predictions, labels) -> {"mof": %, "edit": %, "f1@10": %, "f1@25": %, "f1@50": %}

Where the papers leave a choice, it is written in the function's docstring.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy.stats import kendalltau

from hfvid.evaluation.probes import linear_probe


def _stack(sequences: Sequence, name: str) -> np.ndarray:
    if not len(sequences):
        raise ValueError(f"{name}: no videos")
    return np.concatenate([np.asarray(s) for s in sequences], axis=0)


def _check_aligned(features: Sequence, labels: Sequence, name: str) -> None:
    if len(features) != len(labels):
        raise ValueError(f"{name}: {len(features)} feature sequences but {len(labels)} label sequences")
    for index, (f, y) in enumerate(zip(features, labels)):
        if len(f) != len(y):
            raise ValueError(f"{name}: video {index} has {len(f)} feature frames but {len(y)} labels")


def phase_classification(train_features, train_labels, test_features, test_labels, seed: int = 0) -> dict:
    """Per-frame phase classification by a linear probe (`hfvid.evaluation.probes.linear_probe`) trained on every frame
    of the training videos; top-1 over every frame of the test videos, in %."""
    _check_aligned(train_features, train_labels, "train")
    _check_aligned(test_features, test_labels, "test")
    result = linear_probe(
        torch.as_tensor(_stack(train_features, "train"), dtype=torch.float32), torch.as_tensor(_stack(train_labels, "train")),
        torch.as_tensor(_stack(test_features, "test"), dtype=torch.float32), torch.as_tensor(_stack(test_labels, "test")),
        seed=seed,
    )  # fmt: skip
    return {"phase_top1": 100 * result["linear_top1"]}


def progression_targets(num_frames: int, events: Sequence[float]) -> np.ndarray:
    """TCC's phase-progression targets of one video: for each frame t and key event e, (t - e) / num_frames
    (frames, events)."""
    return (np.arange(num_frames)[:, None] - np.asarray(events, dtype=np.float64)[None, :]) / num_frames


def phase_progression(train_features, train_events, test_features, test_events, ridge: float = 1e-3) -> dict:
    """Phase progression (TCC): a linear (ridge) regressor from a frame's features to its progression targets
    (`progression_targets`, one per key event; every video has the same number of key events), fitted on the training
    frames; the score is R^2 on the test frames, averaged over the key events (1 is perfect)."""
    def design(features, events):
        x = _stack(features, "features").astype(np.float64)
        y = np.concatenate([progression_targets(len(f), e) for f, e in zip(features, events)])
        return x, y

    x_train, y_train = design(train_features, train_events)
    x_test, y_test = design(test_features, test_events)
    mean, std = x_train.mean(0), x_train.std(0) + 1e-8
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    x_train, x_test = np.hstack([x_train, np.ones((len(x_train), 1))]), np.hstack([x_test, np.ones((len(x_test), 1))])
    weights = np.linalg.solve(x_train.T @ x_train + ridge * np.eye(x_train.shape[1]), x_train.T @ y_train)
    residual = ((y_test - x_test @ weights) ** 2).sum(0)
    total = ((y_test - y_test.mean(0)) ** 2).sum(0)
    return {"progression_r2": float(np.mean(1 - residual / np.maximum(total, 1e-12)))}


def kendalls_tau(features: Sequence) -> dict:
    """Kendall's tau of nearest-neighbour alignment (TCC): for every ordered pair of distinct videos (u, v), each frame
    of u is matched to its nearest frame of v (Euclidean distance); tau-b between the frame order of u and the order
    of the matched frames; averaged over all pairs. 1: the videos are aligned in time; -1: reversed."""
    if len(features) < 2:
        raise ValueError("Kendall's tau needs at least 2 videos")
    taus = []
    for u, first in enumerate(features):
        for v, second in enumerate(features):
            if u == v:
                continue
            distances = torch.cdist(torch.as_tensor(np.asarray(first), dtype=torch.float64),
                                    torch.as_tensor(np.asarray(second), dtype=torch.float64))  # fmt: skip
            matched = distances.argmin(dim=1).numpy()
            tau = kendalltau(np.arange(len(matched)), matched).statistic
            taus.append(0.0 if np.isnan(tau) else tau)  # every frame matched to one frame: no order, tau 0
    return {"kendalls_tau": float(np.mean(taus))}


def frame_retrieval_ap(query_features, query_labels, gallery_features, gallery_labels, ks: Sequence[int] = (5, 10, 15)) -> dict:
    """Fine-grained frame retrieval: every frame of the query videos retrieves its K nearest frames (cosine
    similarity) among the gallery videos' frames; a retrieved frame is relevant when it has the query frame's phase
    label. AP@K = sum over ranks k <= K of precision@k at the relevant ranks / the number of relevant frames in the top
    K (0 when there is none); the mean over query frames, in %."""
    _check_aligned(query_features, query_labels, "query")
    _check_aligned(gallery_features, gallery_labels, "gallery")
    queries = torch.nn.functional.normalize(torch.as_tensor(_stack(query_features, "query"), dtype=torch.float32), dim=1)
    gallery = torch.nn.functional.normalize(torch.as_tensor(_stack(gallery_features, "gallery"), dtype=torch.float32), dim=1)
    q_labels, g_labels = torch.as_tensor(_stack(query_labels, "query")), torch.as_tensor(_stack(gallery_labels, "gallery"))
    if max(ks) > len(gallery):
        raise ValueError(f"K up to {max(ks)} but the gallery has {len(gallery)} frames")
    order = (queries @ gallery.T).topk(max(ks), dim=1).indices
    relevant = (g_labels[order] == q_labels[:, None]).double()
    results = {}
    for k in ks:
        hits = relevant[:, :k]
        precision_at = hits.cumsum(dim=1) / torch.arange(1, k + 1, dtype=torch.float64)
        found = hits.sum(dim=1)
        ap = torch.where(found > 0, (precision_at * hits).sum(dim=1) / found.clamp(min=1), torch.zeros_like(found))
        results[f"ap@{k}"] = 100 * float(ap.mean())
    return results


def segments(labels: Sequence[int]) -> list[tuple[int, int, int]]:
    """(label, start, end) of each run of equal labels, end exclusive."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not len(labels):
        raise ValueError(f"expected a non-empty 1-D label sequence, got shape {labels.shape}")
    changes = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts, ends = np.concatenate([[0], changes]), np.concatenate([changes, [len(labels)]])
    return [(int(labels[s]), int(s), int(e)) for s, e in zip(starts, ends)]


def _levenshtein(a: Sequence[int], b: Sequence[int]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def _f1_counts(predicted, truth, overlap: float) -> tuple[int, int, int]:
    """MS-TCN's matching: each predicted segment is a true positive when its best-overlapping true segment of the same
    label (IoU) reaches ``overlap`` and was not matched before; otherwise a false positive; unmatched true segments are
    false negatives."""
    matched = [False] * len(truth)
    tp = fp = 0
    for label, start, end in predicted:
        ious = [
            (min(end, e) - max(start, s)) / (max(end, e) - min(start, s)) if lab == label and min(end, e) > max(start, s) else 0.0
            for lab, s, e in truth
        ]
        best = int(np.argmax(ious))
        if ious[best] >= overlap and not matched[best]:
            tp, matched[best] = tp + 1, True
        else:
            fp += 1
    return tp, fp, matched.count(False)


def segmentation_scores(predictions: Sequence, labels: Sequence, overlaps: Sequence[float] = (0.10, 0.25, 0.50)) -> dict:
    """Action-segmentation metrics as UVAST (and MS-TCN) report them, in %, over a list of videos:

    - ``mof``: frame accuracy over every frame of every video;
    - ``edit``: the segmental edit score, 100 * (1 - Levenshtein(predicted segment labels, true segment labels) /
      max(their counts)), averaged over videos;
    - ``f1@10``, ``f1@25``, ``f1@50``: F1 of segments matched at IoU >= 0.10 / 0.25 / 0.50, true positives, false
      positives and false negatives summed over videos before the F1.
    """
    _check_aligned(predictions, labels, "segmentation")
    correct = sum(int((np.asarray(p) == np.asarray(y)).sum()) for p, y in zip(predictions, labels))
    frames = sum(len(y) for y in labels)
    edits, counts = [], {overlap: [0, 0, 0] for overlap in overlaps}
    for p, y in zip(predictions, labels):
        predicted, truth = segments(p), segments(y)
        distance = _levenshtein([s[0] for s in predicted], [s[0] for s in truth])
        edits.append(100 * (1 - distance / max(len(predicted), len(truth))))
        for overlap in overlaps:
            counts[overlap] = [a + b for a, b in zip(counts[overlap], _f1_counts(predicted, truth, overlap))]
    scores = {"mof": 100 * correct / frames, "edit": float(np.mean(edits))}
    for overlap, (tp, fp, fn) in counts.items():
        precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
        scores[f"f1@{round(100 * overlap)}"] = 100 * (2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return scores
