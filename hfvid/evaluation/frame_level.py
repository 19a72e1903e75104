"""Frame-level evaluation on frozen per-frame features (issue 19: MV-Former, LSFD's non-stationary features, a video
ViT's per-frame tokens): the protocols of TCC / CARL / MV-Former and the action-segmentation metrics UVAST reports.

Per-frame features come as a list of (frames, dim) arrays, one per video; labels as a list of (frames,) integer arrays.

    phase_classification(train_feats, train_labels, test_feats, test_labels) -> {"phase_top1": ...}
    phase_progression(train_feats, train_events, test_feats, test_events) -> {"progression_r2": R^2}
    kendalls_tau(feats) -> {"kendalls_tau": mean over ordered pairs of videos}
    frame_retrieval_ap(query_feats, query_labels, gallery_feats, gallery_labels, ks) -> {"ap@5": ..., ...}
    segmentation_scores(predictions, labels) -> {"mof", "edit", "f1@10", "f1@25", "f1@50"}

Accuracies, AP, MoF, edit and F1 are fractions in [0, 1], as in the rest of `hfvid.evaluation` (the papers print
them in %). Where the papers leave a choice, it is written in the function's docstring.
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
    of the training videos; top-1 over every frame of the test videos."""
    _check_aligned(train_features, train_labels, "train")
    _check_aligned(test_features, test_labels, "test")
    result = linear_probe(
        torch.as_tensor(_stack(train_features, "train"), dtype=torch.float32), torch.as_tensor(_stack(train_labels, "train")),
        torch.as_tensor(_stack(test_features, "test"), dtype=torch.float32), torch.as_tensor(_stack(test_labels, "test")),
        seed=seed,
    )  # fmt: skip
    return {"phase_top1": result["linear_top1"]}


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
    K (0 when there is none); the mean over query frames."""
    _check_aligned(query_features, query_labels, "query")
    _check_aligned(gallery_features, gallery_labels, "gallery")
    queries = torch.nn.functional.normalize(torch.as_tensor(_stack(query_features, "query"), dtype=torch.float32), dim=1)
    gallery = torch.nn.functional.normalize(torch.as_tensor(_stack(gallery_features, "gallery"), dtype=torch.float32), dim=1)
    q_labels, g_labels = torch.as_tensor(_stack(query_labels, "query")), torch.as_tensor(_stack(gallery_labels, "gallery"))
    if max(ks) > len(gallery):
        raise ValueError(f"K up to {max(ks)} but the gallery has {len(gallery)} frames")
    order = torch.cat([(chunk @ gallery.T).topk(max(ks), dim=1).indices for chunk in queries.split(1024)])
    relevant = (g_labels[order] == q_labels[:, None]).double()
    results = {}
    for k in ks:
        hits = relevant[:, :k]
        precision_at = hits.cumsum(dim=1) / torch.arange(1, k + 1, dtype=torch.float64)
        found = hits.sum(dim=1)
        ap = torch.where(found > 0, (precision_at * hits).sum(dim=1) / found.clamp(min=1), torch.zeros_like(found))
        results[f"ap@{k}"] = float(ap.mean())
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
    """Action-segmentation metrics as UVAST (and MS-TCN) report them, over a list of videos:

    - ``mof``: frame accuracy over every frame of every video;
    - ``edit``: the segmental edit score, 1 - Levenshtein(predicted segment labels, true segment labels) /
      max(their counts), averaged over videos;
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
        edits.append(1 - distance / max(len(predicted), len(truth)))
        for overlap in overlaps:
            counts[overlap] = [a + b for a, b in zip(counts[overlap], _f1_counts(predicted, truth, overlap))]
    scores = {"mof": correct / frames, "edit": float(np.mean(edits))}
    for overlap, (tp, fp, fn) in counts.items():
        precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
        scores[f"f1@{round(100 * overlap)}"] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return scores


class _TemporalConvHead(torch.nn.Module):
    """A single-stage MS-TCN: a 1x1 conv in, dilated residual temporal convs (dilation 1, 2, 4, ...), a 1x1 conv out."""

    def __init__(self, dim: int, num_classes: int, width: int = 32, layers: int = 4):
        super().__init__()
        self.inp = torch.nn.Conv1d(dim, width, 1)
        self.dilated = torch.nn.ModuleList(torch.nn.Conv1d(width, width, 3, padding=2**i, dilation=2**i) for i in range(layers))
        self.mix = torch.nn.ModuleList(torch.nn.Conv1d(width, width, 1) for _ in range(layers))
        self.out = torch.nn.Conv1d(width, num_classes, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(batch, dim, frames) -> (batch, num_classes, frames)."""
        hidden = self.inp(features)
        for dilated, mix in zip(self.dilated, self.mix):
            hidden = hidden + mix(torch.relu(dilated(hidden)))
        return self.out(hidden)


def segmentation_probe(train_features, train_labels, test_features, test_labels=None, num_classes: int | None = None,
                       epochs: int = 200, lr: float = 1e-2, seed: int = 0) -> list[np.ndarray]:  # fmt: skip
    """Action segmentation on frozen per-frame features: a small temporal model (`_TemporalConvHead`: 4 dilated
    residual temporal conv layers, 32 channels) trained with per-frame cross-entropy (Adam, full batch: every training
    video in every step, ``epochs`` steps) on features standardised with the training frames' statistics.
    Returns each test video's predicted label per frame (score them with `segmentation_scores`)."""
    _check_aligned(train_features, train_labels, "train")
    stacked = _stack(train_features, "train")
    mean, std = stacked.mean(0), stacked.std(0) + 1e-6
    num_classes = num_classes or int(max(np.max(y) for y in train_labels)) + 1
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        head = _TemporalConvHead(stacked.shape[1], num_classes)
    optimizer = torch.optim.Adam(head.parameters(), lr=lr)

    def as_input(features):
        return torch.as_tensor((np.asarray(features) - mean) / std, dtype=torch.float32).T[None]

    # Videos of one length train as one batch (every video's loss weighs the same either way).
    by_length: dict[int, list] = {}
    for f, y in zip(train_features, train_labels):
        by_length.setdefault(len(y), []).append((as_input(f), torch.as_tensor(np.asarray(y), dtype=torch.long)[None]))
    batches = [(torch.cat([x for x, _ in group]), torch.cat([y for _, y in group])) for group in by_length.values()]
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = sum(torch.nn.functional.cross_entropy(head(x), y) * len(y) for x, y in batches) / len(train_labels)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return [head(as_input(f)).argmax(dim=1)[0].numpy() for f in test_features]


def frame_features(model, pixel_values_videos: torch.Tensor, window: int | None = None, batch_size: int = 32) -> torch.Tensor:
    """(batch, frames, C, H, W) -> per-frame features (batch, frames, dim).

    With ``window``, any clip model: frame i's feature is the model's feature (``pooler_output``; a `FeatureView`'s
    chosen output) of the ``window``-frame clip centred on it (frames i - window // 2 ...; indices past either end
    repeat the first or last frame), the clips run ``batch_size`` at a time. Our choice for clip models, as the
    frame-level papers use a context window per frame for 3D CNNs; it reads LSFD's short-view features at the
    short view's length.
    Without it, what the model has per frame: its own ``frame_features`` (MV-Former), or a ``last_hidden_state``
    with one entry per input frame (tokens (batch, frames, dim), or a feature map (batch, dim, frames, h, w)
    averaged over space), or else its backbone's space-time feature map (a video ViT's tokens on their grid, a
    CNN's last stage) averaged over space, each time cell's feature given to every frame it covers (a ViT with
    2-frame tubelets: frames 2k and 2k + 1 share cell k; `extract_frame_features` says how many). ValueError for any
    other model, or a map whose time cells do not divide the frames."""
    return _frame_features(model, pixel_values_videos, window, batch_size)[0]


def _frame_features(model, pixel_values_videos: torch.Tensor, window: int | None, batch_size: int) -> tuple[torch.Tensor, int]:
    frames = pixel_values_videos.shape[1]
    if window is not None:
        if window < 1:
            raise ValueError(f"window must be a positive number of frames, got {window}")
        offsets = torch.arange(window, device=pixel_values_videos.device) - window // 2
        indices = (torch.arange(frames, device=pixel_values_videos.device)[:, None] + offsets).clamp(0, frames - 1)
        clips = pixel_values_videos[:, indices].flatten(0, 1)  # (batch * frames, window, C, H, W)
        pooled = [model(pixel_values_videos=clips[i : i + batch_size]).pooler_output for i in range(0, len(clips), batch_size)]
        return torch.cat(pooled).reshape(len(pixel_values_videos), frames, -1), 1
    if hasattr(model, "frame_features"):
        return model.frame_features(pixel_values_videos), 1
    hidden = model(pixel_values_videos=pixel_values_videos).last_hidden_state
    if hidden is not None and hidden.ndim == 3 and hidden.shape[1] == frames:
        return hidden, 1
    backbone = getattr(model, "backbone", None)
    if hidden is not None and hasattr(backbone, "feature_map"):
        feature_map = backbone.feature_map(hidden, tuple(pixel_values_videos.shape[1:]))
        if frames % feature_map.shape[2] == 0:
            step = frames // feature_map.shape[2]
            return feature_map.mean(dim=(3, 4)).transpose(1, 2).repeat_interleave(step, dim=1), step
    elif hidden is not None and hidden.ndim == 5 and hidden.shape[2] == frames:
        return hidden.mean(dim=(3, 4)).transpose(1, 2), 1
    shape = None if hidden is None else tuple(hidden.shape)
    raise ValueError(
        f"{type(model).__name__} gives no per-frame features: its last_hidden_state is {shape} for {frames} input frames "
        "(frame-level protocols need one feature per frame, e.g. MV-Former's, or a feature map whose time cells divide "
        "the frames); a clip model can give each frame the feature of a clip around it: frame_window (--frame_window)"
    )


@torch.no_grad()
def extract_frame_features(model, processor, dataset, video_column: str = "video", progress: bool = True,
                           window: int | None = None) -> tuple[list[np.ndarray], int]:  # fmt: skip
    """Every frame of every video of ``dataset`` through ``processor`` (no frame sampling) and `frame_features`
    (with ``window``): one (frames, dim) array per video, and `frames_per_feature`."""
    from tqdm.auto import tqdm

    model.eval()
    features, step = [], 1
    for example in tqdm(dataset, desc="frame features", unit="video", disable=not progress):
        pixels = processor([example[video_column]], do_sample_frames=False, return_tensors="pt")["pixel_values_videos"]
        video_features, step = _frame_features(model, pixels.to(next(model.parameters()).device), window, 32)
        features.append(video_features[0].float().cpu().numpy())
    return features, step


FRAME_PROTOCOLS = ("phase", "progress", "kendall", "frame_retrieval", "segmentation")


def evaluate_frame_level(train_features, train_phases, test_features, test_phases, protocols=FRAME_PROTOCOLS,
                         train_events=None, test_events=None, seed: int = 0) -> dict:  # fmt: skip
    """The frame-level protocols on per-frame features of train and test videos, with per-frame phase labels
    (and key-event frames for "progress"): "phase" (linear probe per frame), "progress" (R^2), "kendall" (tau over
    the test videos), "frame_retrieval" (test frames query train frames, AP@5/10/15), "segmentation" (the temporal
    conv probe, MoF / edit / F1@{10,25,50}). One dict of every metric."""
    unknown = sorted(set(protocols) - set(FRAME_PROTOCOLS))
    if unknown:
        raise ValueError(f"unknown frame-level protocols {unknown}; valid: {FRAME_PROTOCOLS}")
    metrics = {}
    if "phase" in protocols:
        metrics.update(phase_classification(train_features, train_phases, test_features, test_phases, seed=seed))
    if "progress" in protocols:
        if train_events is None or test_events is None:
            raise ValueError("phase progression needs the key events of each video (e.g. SynthMotion's phase_events)")
        metrics.update(phase_progression(train_features, train_events, test_features, test_events))
    if "kendall" in protocols:
        metrics.update(kendalls_tau(test_features))
    if "frame_retrieval" in protocols:
        metrics.update(frame_retrieval_ap(test_features, test_phases, train_features, train_phases))
    if "segmentation" in protocols:
        predictions = segmentation_probe(train_features, train_phases, test_features, seed=seed)
        metrics.update(segmentation_scores(predictions, test_phases))
    return metrics
