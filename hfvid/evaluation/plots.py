"""Figures for evaluation results: retrieval recall curves, confusion matrices, seed comparisons and sweeps.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot), so plotting works headless and
neither changes nor depends on the global backend.
"""

from __future__ import annotations

import os

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

MAX_LABELLED_CLASSES = 40  # above this, class names would overlap: ticks are left unlabelled
MAX_ANNOTATED_CLASSES = 15  # above this, per-cell counts would be unreadable


def _save(figure: Figure, path: str | os.PathLike) -> str:
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=150, bbox_inches="tight")
    return path


def plot_recall_curve(results: dict[str, dict[str, float]], path: str | os.PathLike, title: str | None = None) -> str:
    """R@k against k (log scale), one line per model; ``results`` maps a model name to
    ``retrieval_recall``'s ``{"R@1": ..., ...}`` (values in [0, 1], drawn in %). An entry named "chance" is drawn
    as a dashed grey line. The legend sits outside the axes, so no curve hides under it. Returns ``path``."""
    if not results:
        raise ValueError("results is empty: nothing to plot")
    figure = Figure(figsize=(6.5, 3.5))
    axes = figure.add_subplot()
    all_ks = set()
    for name, recalls in results.items():
        ks = sorted(int(key.removeprefix("R@")) for key in recalls)
        all_ks.update(ks)
        style = dict(linestyle="--", color="grey", marker=None) if name == "chance" else dict(marker="o")
        axes.plot(ks, [100 * recalls[f"R@{k}"] for k in ks], label=name, **style)
    axes.set_xscale("log")
    axes.set_xticks(sorted(all_ks), labels=[str(k) for k in sorted(all_ks)])
    axes.minorticks_off()
    axes.set_ylim(0, 100)
    axes.set_xlabel("k (nearest neighbours)")
    axes.set_ylabel("R@k (%)")
    axes.set_title(title or "retrieval: test videos query the training videos", fontsize=9)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)
    return _save(figure, path)


def plot_confusion_matrix(
    confusion: torch.Tensor | np.ndarray,
    class_names: list[str],
    path: str | os.PathLike,
    title: str | None = None,
) -> str:
    """Confusion matrix (rows = true class, columns = predicted), coloured by the share of each true
    class (so rare classes are as visible as frequent ones); counts are written in the cells of
    small matrices. Returns ``path``."""
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1] or confusion.shape[0] == 0:
        raise ValueError(f"confusion must be a non-empty (C, C) matrix, got shape {confusion.shape}")
    num_classes = confusion.shape[0]
    if len(class_names) != num_classes:
        raise ValueError(f"{len(class_names)} class names for a {num_classes}-class confusion matrix")
    row_totals = confusion.sum(axis=1, keepdims=True)
    shares = confusion / np.maximum(row_totals, 1)
    size = min(4 + 0.25 * num_classes, 20)
    figure = Figure(figsize=(size, size))
    axes = figure.add_subplot()
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of true class")
    if num_classes <= MAX_LABELLED_CLASSES:
        axes.set_xticks(range(num_classes), labels=class_names, rotation=90)
        axes.set_yticks(range(num_classes), labels=class_names)
    if num_classes <= MAX_ANNOTATED_CLASSES:
        for row in range(num_classes):
            for column in range(num_classes):
                colour = "white" if shares[row, column] > 0.5 else "black"
                axes.text(column, row, str(confusion[row, column]), ha="center", va="center", color=colour, fontsize=8)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    if title is not None:
        axes.set_title(title)
    return _save(figure, path)


def smoothed(values, weight: float = 0.9) -> np.ndarray:
    """TensorBoard's smoothing: an exponential moving average with its start-up bias removed."""
    values = np.asarray(values, dtype=np.float64)
    average, out = 0.0, np.empty_like(values)
    for index, value in enumerate(values):
        average = weight * average + (1 - weight) * value
        out[index] = average / (1 - weight ** (index + 1))
    return out


def plot_training_loss(steps, losses, path: str | os.PathLike, title: str = "pre-training loss") -> str:
    """The loss against the optimiser step: the raw per-step values faint, their moving average (`smoothed`, weight
    0.9: about the last 10 steps) on top. Returns ``path``."""
    if len(steps) == 0 or len(steps) != len(losses):
        raise ValueError(f"need as many losses as steps (at least one), got {len(steps)} and {len(losses)}")
    figure = Figure(figsize=(5, 3.5))
    axes = figure.add_subplot()
    axes.plot(steps, losses, linewidth=0.8, alpha=0.3, color="tab:blue", label="per step")
    axes.plot(steps, smoothed(losses), linewidth=1.5, color="tab:blue", label="moving average")
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    return _save(figure, path)


def plot_seed_comparison(
    values: dict[str, dict[str, list[float]]],
    chance: dict[str, float],
    path: str | os.PathLike,
    title: str | None = None,
) -> str:
    """Several models over seeds, one group of bars per metric: each bar the mean over seeds with its 95% t-interval,
    each seed a dot on it, the chance level a dashed grey line across the group. ``values`` maps a model name to
    ``{metric label: [value per seed, ...]}`` (in %); ``chance`` a metric label to its chance level (in %; a metric
    without one gets no line). Returns ``path``."""
    from hfvid.evaluation.report import mean_interval  # report imports this module

    if not values:
        raise ValueError("values is empty: nothing to plot")
    metrics = list(next(iter(values.values())))
    width = 0.8 / len(values)
    figure = Figure(figsize=(1.2 + 1.6 * len(metrics), 3.5))
    axes = figure.add_subplot()
    for index, (name, by_metric) in enumerate(values.items()):
        positions = np.arange(len(metrics)) - 0.4 + width * (index + 0.5)
        seeds = [by_metric.get(metric, []) for metric in metrics]
        intervals = [mean_interval(v) if v else (np.nan, 0.0) for v in seeds]
        means, half_widths = zip(*intervals)
        label = f"{name} (n={max(map(len, seeds))})"
        axes.bar(positions, means, width * 0.9, yerr=half_widths, capsize=3, label=label, alpha=0.8)
        for position, seed_values in zip(positions, seeds):
            axes.plot([position] * len(seed_values), seed_values, "k.", markersize=3)
    for group, metric in enumerate(metrics):
        if metric in chance:
            label = "chance" if group == 0 else None
            axes.hlines(chance[metric], group - 0.45, group + 0.45, colors="grey", linestyles="--", label=label)
    axes.set_xticks(np.arange(len(metrics)), labels=metrics, fontsize=8)
    axes.set_ylim(0, 100)
    axes.set_ylabel("%")
    axes.set_title(title or "mean over seeds, 95% interval; dots: seeds", fontsize=9)
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)
    return _save(figure, path)


def plot_sweep(
    values: dict[str, dict[float, list[float]]],
    chance: float | None,
    path: str | os.PathLike,
    xlabel: str,
    ylabel: str = "%",
    title: str | None = None,
) -> str:
    """A score against a swept setting (e.g. the learning rate, on a log axis), one line per model: the mean over
    seeds with its 95% t-interval as error bars, each seed a dot, the chance level a dashed grey line. ``values`` maps
    a model name to ``{setting: [value per seed, ...]}`` (in %). Returns ``path``."""
    from hfvid.evaluation.report import mean_interval  # report imports this module

    if not values:
        raise ValueError("values is empty: nothing to plot")
    figure = Figure(figsize=(5.5, 3.5))
    axes = figure.add_subplot()
    log = all(x > 0 for by_setting in values.values() for x in by_setting)
    for index, (name, by_setting) in enumerate(values.items()):
        settings = sorted(by_setting)
        means, half_widths = zip(*(mean_interval(by_setting[x]) for x in settings))
        # The models side by side at each setting (a few % apart), so that their intervals do not hide each other.
        shift = 0.03 * (index - (len(values) - 1) / 2)
        drawn = [x * 10**shift if log else x + shift for x in settings]
        line = axes.errorbar(drawn, means, yerr=half_widths, capsize=3, marker="o", markersize=4,
                             label=f"{name} (n={max(map(len, by_setting.values()))})")  # fmt: skip
        for x, at in zip(settings, drawn):
            axes.plot([at] * len(by_setting[x]), by_setting[x], ".", color=line.lines[0].get_color(), alpha=0.5, markersize=3)
    if chance is not None:
        axes.axhline(chance, color="grey", linestyle="--", label="chance")
    if log:
        axes.set_xscale("log")
        settings = sorted({x for by_setting in values.values() for x in by_setting})
        axes.set_xticks(settings, labels=[f"{x:g}" for x in settings])
        axes.minorticks_off()
    axes.set_ylim(0, 100)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title or "mean over seeds, 95% interval; dots: seeds", fontsize=9)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)
    return _save(figure, path)
