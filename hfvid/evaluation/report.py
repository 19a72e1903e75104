"""One call from a model and a data set to every frozen-feature protocol, and the files that report it.

``evaluate_model(model, processor, source)`` loads the train and test splits of ``source`` (see
`hfvid.data.sources.load_video_dataset`), extracts each split's video features once (cached with
``cache_dir``), and runs the chosen ``PROTOCOLS``:

- "retrieval": R@k of test videos (queries) against train videos (gallery);
- "knn": weighted kNN and 1-NN top-1; "linear": linear-probe top-1 and its confusion matrix;
- "motion", "sync", "order": the temporal tasks of `hfvid.evaluation.temporal` (with chance levels);
- frame level, on per-frame features and per-frame phase labels (`hfvid.evaluation.frame_level`): "phase",
  "progress", "kendall", "frame_retrieval", "segmentation" (not in the default set: they need a model with per-frame
  features and a data set with frame labels, e.g. SynthMotion made with ``phases=True``).

The result is a JSON-ready dict ``{"metrics": {name: value in [0, 1]}, "confusion", "class_names",
"data", "settings"}``. ``write_results`` stores it as results.json, results.md, recall_at_k.png and
confusion_matrix.png; ``evaluate_models`` evaluates several models that share a processor (e.g. pre-trained vs
random init) with one pass over the videos for their features, and ``compare_table`` / ``write_comparison`` put
them side by side; ``to_model_index`` gives the Hub model card's ``model-index`` entry.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import datasets
import numpy as np
import scipy.stats

from hfvid.data.frame_labels import add_frame_labels
from hfvid.data.sources import load_video_dataset
from hfvid.evaluation.features import extract_features, extract_features_of_models
from hfvid.evaluation.frame_level import FRAME_PROTOCOLS, evaluate_frame_level, extract_frame_features
from hfvid.evaluation.plots import plot_confusion_matrix, plot_recall_curve
from hfvid.evaluation.probes import attentive_probe, knn_accuracy, linear_probe
from hfvid.evaluation.retrieval import RECALL_KS, retrieval_recall
from hfvid.evaluation.temporal import motion_accuracy, temporal_task_accuracy

PROTOCOLS = ("retrieval", "knn", "linear", "attentive", "motion", "sync", "order")
ALL_PROTOCOLS = (*PROTOCOLS, *FRAME_PROTOCOLS)
FEATURE_PROTOCOLS = ("retrieval", "knn", "linear", "motion")  # the ones on per-video features

# Every metric a protocol can produce, in report order, with its display name.
METRIC_NAMES = {
    **{f"R@{k}": f"Retrieval R@{k}" for k in RECALL_KS},
    "knn_top1": "kNN top-1",
    "nn_top1": "1-NN top-1",
    "linear_top1": "Linear probe top-1",
    "attentive_top1": "Attentive probe top-1",
    "motion_top1": "Motion top-1",
    "motion_chance": "Motion chance",
    "sync_top1": "Sync top-1",
    "sync_chance": "Sync chance",
    "order_top1": "Order top-1",
    "order_chance": "Order chance",
    "finetune_top1": "Fine-tune top-1",
    "phase_top1": "Phase top-1 (per frame)",
    "progression_r2": "Phase progression R² (x100)",
    "kendalls_tau": "Kendall's tau (x100)",
    "ap@5": "Frame retrieval AP@5",
    "ap@10": "Frame retrieval AP@10",
    "ap@15": "Frame retrieval AP@15",
    "mof": "Segmentation MoF",
    "edit": "Segmentation edit",
    "f1@10": "Segmentation F1@10",
    "f1@25": "Segmentation F1@25",
    "f1@50": "Segmentation F1@50",
}
FRAME_METRICS = ("phase_top1", "progression_r2", "kendalls_tau", "ap@5", "ap@10", "ap@15", "mof", "edit", "f1@10", "f1@25", "f1@50")
CLASSIFICATION_METRICS = ("knn_top1", "nn_top1", "linear_top1", "attentive_top1", "motion_top1", "sync_top1", "order_top1", "finetune_top1")


def evaluate_model(
    model, processor, source: str = "synthmotion", output_dir: str | os.PathLike | None = None, model_name: str | None = None, **settings
) -> dict:
    """Run ``protocols`` on the ``train_split`` / ``test_split`` of ``source`` ("synthmotion", a videofolder
    directory, a CSV or a Hub name). ``settings``: `evaluate_models`' (the protocols, splits, clips, seed, frame
    labels, and ``load_video_dataset``'s own, e.g. ``synthmotion_dir``).

    With ``output_dir`` the results are also written there (`write_results`, under ``model_name``,
    default the model's ``name_or_path``).
    """
    results = evaluate_models({"model": model}, processor, source, **settings)["model"]
    if output_dir is not None:
        write_results(results, output_dir, model_name or model.config.name_or_path or type(model).__name__)
    return results


def evaluate_models(
    models: dict,
    processor,
    source: str = "synthmotion",
    train_split: str = "train",
    test_split: str = "test",
    protocols=PROTOCOLS,
    num_clips: int = 1,
    batch_size: int = 8,
    pairs_per_video: int = 4,
    seed: int = 0,
    video_column: str = "video",
    label_column: str = "label",
    backend: str = "torchcodec",
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
    frame_labels: str | os.PathLike | None = None,
    frame_label_mapping: str | os.PathLike | None = None,
    frame_window: int | None = None,
    **data_kwargs,
) -> dict[str, dict]:
    """`evaluate_model` for several models (``{name: model}``, e.g. a pre-trained network and its random init)
    that share ``processor``; returns ``{name: results}``. The data is loaded once, and the features of the
    retrieval, kNN, linear and motion protocols come from one pass over the videos (`extract_features_of_models`:
    each video decoded once for all models).

    ``data_kwargs`` go to ``load_video_dataset`` (e.g. ``synthmotion_dir``). ``frame_labels``: a folder of per-video
    frame-label files (`hfvid.data.frame_labels.add_frame_labels`, with ``frame_label_mapping``) added as the
    ``phases`` column for the frame-level protocols. See `evaluate_datasets` for the other arguments.
    """
    train_dataset, test_dataset = (
        load_video_dataset(source, split=split, decode=False, video_column=video_column, **data_kwargs)
        for split in (train_split, test_split)
    )
    if frame_labels is not None:
        train_dataset, test_dataset = (
            add_frame_labels(dataset, frame_labels, video_column=video_column, mapping=frame_label_mapping)
            for dataset in (train_dataset, test_dataset)
        )
    extract = dict(
        video_column=video_column, label_column=label_column, num_clips=num_clips, batch_size=batch_size,
        backend=backend, cache_dir=cache_dir, progress=progress,
    )  # fmt: skip
    features = {name: None for name in models}
    if set(protocols) & set(FEATURE_PROTOCOLS):
        train, test = (extract_features_of_models(list(models.values()), processor, d, **extract) for d in (train_dataset, test_dataset))
        features = dict(zip(models, zip(train, test)))
    results = {}
    for name, model in models.items():
        results[name] = evaluate_datasets(
            model, processor, train_dataset, test_dataset, protocols=protocols, pairs_per_video=pairs_per_video,
            seed=seed, frame_window=frame_window, features=features[name], **extract,
        )  # fmt: skip
        results[name]["data"] = {"source": str(source), "train_split": train_split, "test_split": test_split, **results[name]["data"]}
    return results


def evaluate_datasets(
    model,
    processor,
    train_dataset,
    test_dataset,
    protocols=PROTOCOLS,
    num_clips: int = 1,
    batch_size: int = 8,
    pairs_per_video: int = 4,
    seed: int = 0,
    video_column: str = "video",
    label_column: str = "label",
    backend: str = "torchcodec",
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
    frame_label_column: str = "phases",
    event_column: str = "phase_events",
    frame_window: int | None = None,
    features: tuple | None = None,
) -> dict:
    """Run ``protocols`` on two loaded `datasets` splits (e.g. a UCF101 fold from `hfvid.data.datasets`).

    Video features (``num_clips`` clips per video, averaged) are extracted once per split and shared by
    retrieval, kNN, linear and motion; the attentive probe reads each video's frozen tokens (its clips' tokens one
    after the other, `hfvid.evaluation.features.token_features`); Sync and Order embed ``pairs_per_video`` clip
    pairs per video.
    ``seed`` fixes the probes' initialisation and the pairs. ``batch_size`` is videos (pairs for Sync
    and Order) per model call. The frame-level protocols read every frame of each video, the per-frame labels in
    ``frame_label_column`` and, for "progress", the key-event frames in ``event_column``; per-frame features are
    `hfvid.evaluation.frame_level.frame_features` (with ``frame_window``: each frame's feature is that of the clip of
    ``frame_window`` frames around it, for models without per-frame outputs); the settings record
    ``frames_per_feature``. ``features``: the train and test splits' `extract_features` results, where the caller
    extracted them already (`evaluate_models`).
    """
    unknown = sorted(set(protocols) - set(ALL_PROTOCOLS))
    if unknown or not protocols:
        raise ValueError(f"unknown or no protocols {unknown or list(protocols)}; valid: {ALL_PROTOCOLS}")
    results = {
        "metrics": {},
        "class_names": _class_names(test_dataset, label_column),
        "data": {"num_train_videos": len(train_dataset), "num_test_videos": len(test_dataset)},
        "settings": dict(
            protocols=list(protocols), num_clips=num_clips, num_frames=processor.num_frames,
            pairs_per_video=pairs_per_video, seed=seed,
        ),  # fmt: skip
    }
    metrics = {}
    num_classes = len(results["class_names"]) if results["class_names"] else None
    extract = dict(
        video_column=video_column, label_column=label_column, num_clips=num_clips, batch_size=batch_size,
        backend=backend, cache_dir=cache_dir, progress=progress,
    )  # fmt: skip
    if set(protocols) & set(FEATURE_PROTOCOLS):
        if features is None:
            features = tuple(extract_features(model, processor, d, **extract) for d in (train_dataset, test_dataset))
        (train_features, train_labels), (test_features, test_labels) = features
        chance = chance_levels(train_labels, test_labels)
        if "retrieval" in protocols:
            recalls = retrieval_recall(test_features, test_labels, train_features, train_labels)
            # R@k only where a random ranking scores below 50%: past that it measures the class count, not the model.
            metrics.update({name: value for name, value in recalls.items() if chance[name] <= 0.5})
        if "knn" in protocols:
            metrics.update(knn_accuracy(train_features, train_labels, test_features, test_labels))
        if "linear" in protocols:
            probe = linear_probe(train_features, train_labels, test_features, test_labels, seed=seed, num_classes=num_classes)
            metrics["linear_top1"] = probe["linear_top1"]
            results["confusion"] = probe["confusion"].tolist()
            results["class_names"] = results["class_names"] or [str(label) for label in range(len(results["confusion"]))]
        if "motion" in protocols:
            metrics.update(motion_accuracy(train_features, train_labels, test_features, test_labels, seed=seed))
    if "attentive" in protocols:
        train_tokens, train_labels = extract_features(model, processor, train_dataset, **extract, tokens=True)
        test_tokens, test_labels = extract_features(model, processor, test_dataset, **extract, tokens=True)
        probe = attentive_probe(train_tokens, train_labels, test_tokens, test_labels, seed=seed, num_classes=num_classes)
        metrics["attentive_top1"] = probe["attentive_top1"]
        chance = chance if set(protocols) & set(FEATURE_PROTOCOLS) else chance_levels(train_labels, test_labels)
    for task in ("sync", "order"):
        if task in protocols:
            metrics.update(
                temporal_task_accuracy(
                    model, processor, train_dataset, test_dataset, task, pairs_per_video=pairs_per_video, seed=seed,
                    video_column=video_column, batch_size=batch_size, backend=backend, progress=progress,
                )  # fmt: skip
            )
    frame_protocols = [name for name in protocols if name in FRAME_PROTOCOLS]
    if frame_protocols:
        for dataset in (train_dataset, test_dataset):
            if frame_label_column not in dataset.column_names:
                raise ValueError(
                    f"frame-level protocols {frame_protocols} need per-frame labels in a column {frame_label_column!r}; "
                    f"the data has {dataset.column_names} (SynthMotion has them when made with phases=True)"
                )
        extracted = [extract_frame_features(model, processor, d, video_column, progress, frame_window) for d in (train_dataset, test_dataset)]
        split_features = [features for features, _ in extracted]
        results["settings"].update(frame_window=frame_window, frames_per_feature=extracted[0][1])
        events = [d[event_column] if "progress" in protocols else None for d in (train_dataset, test_dataset)]
        metrics.update(
            evaluate_frame_level(split_features[0], train_dataset[frame_label_column], split_features[1],
                                 test_dataset[frame_label_column], frame_protocols, *events, seed=seed)  # fmt: skip
        )
    results["metrics"] = {name: metrics[name] for name in METRIC_NAMES if name in metrics}
    if set(protocols) & {*FEATURE_PROTOCOLS, "attentive"}:
        chance.update({f"{task}_top1": metrics[f"{task}_chance"] for task in ("motion", "sync", "order") if f"{task}_chance" in metrics})
        results["chance"] = {name: chance[name] for name in results["metrics"] if name in chance}
    return results


def mean_interval(values, confidence: float = 0.95) -> tuple[float, float]:
    """Mean of ``values`` (e.g. one score per seed) and the half-width of its Student-t confidence interval
    (0 for a single value)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return float(values.mean()), 0.0
    half_width = scipy.stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return float(values.mean()), float(half_width)


def paired_summary(values, baseline) -> str:
    """Seed-by-seed comparison of ``values`` with ``baseline`` (same seeds, same order): "mean +- 95% interval of the
    differences (k/n above)", k the seeds where ``values`` was higher."""
    differences = [value - base for value, base in zip(values, baseline, strict=True)]
    mean, half_width = mean_interval(differences)
    return f"{mean:+.1f} +- {half_width:.1f} ({sum(d > 0 for d in differences)}/{len(differences)} above)"


def chance_levels(train_labels, test_labels, ks=RECALL_KS) -> dict[str, float]:
    """What a model whose features carry no information scores, from the label counts alone.

    Retrieval R@k: the probability that k gallery (train) videos drawn at random include one of the query's
    class, averaged over the test queries. Classification top-1 (kNN, 1-NN, linear probe): the share of the
    most frequent test class, which a constant guess reaches.
    """
    train_labels, test_labels = np.asarray(train_labels), np.asarray(test_labels)
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    per_class = np.bincount(train_labels, minlength=num_classes)
    share = np.bincount(test_labels, minlength=num_classes) / len(test_labels)
    gallery = len(train_labels)
    chance = {}
    for k in ks:
        drawn = min(k, gallery)
        miss = np.array([math.comb(gallery - count, drawn) / math.comb(gallery, drawn) for count in per_class])
        chance[f"R@{k}"] = float(share @ (1 - miss))
    top1 = float(share.max())
    chance.update(knn_top1=top1, nn_top1=top1, linear_top1=top1, attentive_top1=top1)
    return chance


def _class_names(dataset, label_column: str) -> list[str] | None:
    """The names of the label column's ClassLabel, or None when it is a plain integer column."""
    feature = dataset.features[label_column]
    return list(feature.names) if isinstance(feature, datasets.ClassLabel) else None


def compare_table(results_by_model: dict[str, dict]) -> str:
    """Markdown table, one row per metric (values in %), one column per model; "-" where a model lacks it.
    A last "chance" column holds the chance level where the results carry one (`chance_levels`)."""
    if not results_by_model:
        raise ValueError("results_by_model is empty: nothing to compare")
    names = [name for name in METRIC_NAMES if any(name in r["metrics"] for r in results_by_model.values())]
    chance = _chance(results_by_model)
    columns = [*results_by_model, *(["chance"] if chance else [])]
    lines = ["| Metric (%) | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for name in names:
        values = [r["metrics"].get(name) for r in results_by_model.values()]
        if chance:
            values.append(chance.get(name))
        cells = ["-" if value is None else f"{100 * value:.1f}" for value in values]
        lines.append(f"| {METRIC_NAMES[name]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _chance(results_by_model: dict[str, dict]) -> dict[str, float]:
    """The chance levels the results carry, merged over models (they share the evaluation data)."""
    return {name: value for results in results_by_model.values() for name, value in results.get("chance", {}).items()}


def _recalls(results: dict) -> dict[str, float]:
    return {name: value for name, value in results["metrics"].items() if name.startswith("R@")}


def _retrieval_title(data: dict) -> str:
    """What a recall plot shows, in words: the data set, its splits and sizes."""
    source = Path(str(data.get("source", "the data"))).name
    return (
        f"{source}: {data.get('num_test_videos', '?')} {data.get('test_split', 'test')} videos query "
        f"{data.get('num_train_videos', '?')} {data.get('train_split', 'train')} videos"
    )


def write_results(results: dict, output_dir: str | os.PathLike, model_name: str) -> dict[str, Path]:
    """Write results.json, results.md (Markdown table), and, when the protocols produced them,
    recall_at_k.png and confusion_matrix.png (linear probe, class names from the data set's ClassLabel).
    Returns the written paths by file kind."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": output_dir / "results.json", "markdown": output_dir / "results.md"}
    paths["json"].write_text(json.dumps({"model": model_name, **results}, indent=2) + "\n")
    data = results["data"]
    summary = ", ".join(f"{key}: {value}" for key, value in data.items())
    paths["markdown"].write_text(f"# Evaluation of {model_name}\n\n{summary}\n\n{compare_table({model_name: results})}")
    if _recalls(results):
        paths["recall_plot"] = output_dir / "recall_at_k.png"
        curves = {model_name: _recalls(results)}
        chance = results.get("chance", {})
        if any(name in chance for name in curves[model_name]):
            curves["chance"] = {name: chance[name] for name in curves[model_name] if name in chance}
        plot_recall_curve(curves, paths["recall_plot"], _retrieval_title(data))
    if "confusion" in results:
        title = f"{model_name}: linear probe on {data.get('test_split', 'test')}"
        confusion_path = output_dir / "confusion_matrix.png"
        plot_confusion_matrix(results["confusion"], results["class_names"], confusion_path, title)
        paths["confusion_plot"] = confusion_path
    return paths


def write_comparison(results_by_model: dict[str, dict], output_dir: str | os.PathLike) -> dict[str, Path]:
    """Write comparison.md (`compare_table`) and, with retrieval results, recall_at_k_comparison.png
    (one curve per model, and the chance level where the results carry it). Returns the written paths by file kind."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": output_dir / "comparison.md"}
    paths["markdown"].write_text("# Comparison\n\n" + compare_table(results_by_model))
    recalls = {name: _recalls(results) for name, results in results_by_model.items() if _recalls(results)}
    chance = _chance(results_by_model)
    if recalls and any(name in chance for name in next(iter(recalls.values()))):
        recalls["chance"] = {name: chance[name] for name in next(iter(recalls.values())) if name in chance}
    if recalls:
        paths["recall_plot"] = output_dir / "recall_at_k_comparison.png"
        data = next((results["data"] for results in results_by_model.values() if "data" in results), {})
        plot_recall_curve(recalls, paths["recall_plot"], _retrieval_title(data))
    return paths


def to_model_index(results: dict, model_name: str, dataset_name: str, dataset_type: str) -> list[dict]:
    """The model card's ``model-index`` (Hub spec): a "video-retrieval" entry with R@k (metric type
    "recall") and a "video-classification" entry with every top-1 accuracy (type "accuracy"), told apart
    by metric name. Values are fractions in [0, 1]; chance levels are left out (they are baselines).
    Round-trips through huggingface_hub's ``model_index_to_eval_results`` / ``eval_results_to_model_index``."""
    dataset = {"name": dataset_name, "type": dataset_type, "split": results["data"].get("test_split", "test")}
    metrics = results["metrics"]
    entries = [
        ("video-retrieval", "Video Retrieval", "recall", [name for name in metrics if name.startswith("R@")]),
        (
            "video-classification",
            "Video Classification",
            "accuracy",
            [name for name in CLASSIFICATION_METRICS if name in metrics],
        ),
    ]
    model_results = [
        {
            "task": {"type": task_type, "name": task_name},
            "dataset": dict(dataset),
            "metrics": [{"type": metric_type, "value": metrics[name], "name": METRIC_NAMES[name]} for name in names],
        }
        for task_type, task_name, metric_type, names in entries
        if names
    ]
    if not model_results:
        raise ValueError("results hold no retrieval or accuracy metric to report")
    return [{"name": model_name, "results": model_results}]
