"""Model cards for hfvid models: `hfvid/hub/templates/base.md` (Jinja), extended by the method's own ``model_card.md``
next to its config class (``hfvid/models/<method>/model_card.md``), which fills the ``description``,
``limitations`` and ``citation`` blocks; the method's name comes from its config (``config.method_name``) and the
backbone's description from the backbone (`hfvid.backbones.base.VideoBackbone.describe`). This module knows no
method.

``write_model_card(model_dir, run_info, eval_results)`` reads what the run wrote (``config.json``,
``training_info.json``) so the card states measured facts, not typed ones, and writes ``README.md``.
"""

from __future__ import annotations

import inspect
import json
import os
import re
from pathlib import Path

import jinja2
import torch
from huggingface_hub import EvalResult, ModelCard, ModelCardData
from transformers import AutoConfig

from hfvid.backbones.registry import build_backbone

HUB_DATASET_ID = re.compile(r"[\w.-]+/[\w.-]+")
TEMPLATES = Path(__file__).resolve().parent / "templates"  # inside the package: wheels carry it
METHOD_TEMPLATE = "model_card.md"


def method_template_dir(config) -> Path:
    """The folder of the method that ``config`` (a config object) belongs to: where its ``model_card.md`` is."""
    return Path(inspect.getfile(type(config))).parent


def provenance(run_info: dict) -> str:
    """One honest sentence on how the weights were made, from the run's own record."""
    processes = run_info.get("num_processes", 1)
    return (
        f"Pre-trained on `{run_info['dataset']}` ({run_info.get('split', 'train')} split) for {run_info['steps']} "
        f"optimiser steps of {run_info['batch_size_per_process']} videos x {processes} process(es) on "
        f"`{run_info['device']}`, seed {run_info['seed']}. Nothing else went into these weights."
    )


def write_model_card(
    model_dir: str | os.PathLike,
    run_info: dict,
    eval_results: list[EvalResult] | None = None,
    results_table: str | None = None,
    result_plots: list[str] = (),
    repo_id: str | None = None,
    dataset_names: list[str] | None = None,
    license: str = "apache-2.0",
    config_object=None,
) -> Path:
    """Render and write ``model_dir/README.md``; plots are file names inside ``model_dir``. ``config_object``: the
    model's config as its method's config class (default: what `AutoConfig` loads from the folder; a
    transformers-native method's folder, e.g. VideoMAE's, loads as transformers' class: pass
    `hfvid.models.method_config` of it)."""
    model_dir = Path(model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    config_object = config_object if config_object is not None else AutoConfig.from_pretrained(model_dir)
    method_dir = method_template_dir(config_object)
    if not (method_dir / METHOD_TEMPLATE).is_file():
        raise FileNotFoundError(
            f"no model card template for model type {config['model_type']!r} at {method_dir / METHOD_TEMPLATE} (a "
            "transformers-native method's folder: pass config_object=hfvid.models.method_config(config))"
        )
    if hasattr(config_object, "describe_encoder"):  # a transformers model's own encoder, not a registry backbone
        backbone_name, hidden_size = config_object.describe_encoder(), config_object.hidden_size
    else:
        with torch.device("meta"):
            backbone = build_backbone(config_object.backbone)
        backbone_name, hidden_size = backbone.describe(), backbone.num_features
    repo_id = repo_id or f"hfvid/{model_dir.name}"
    has_classifier = any(a.endswith("ForVideoClassification") for a in config.get("architectures", []))
    card_data = ModelCardData(
        # A transformers-native method's folder (VideoMAE) is a plain transformers checkpoint.
        library_name="transformers" if getattr(config_object, "transformers_native", False) else "hfvid",
        license=license,
        tags=["self-supervised", "video", "hfvid", config["model_type"]],
        # Hub metadata names Hub datasets only (owner/name); a local folder or the built-in SynthMotion is in the text.
        datasets=[name for name in dataset_names or () if HUB_DATASET_ID.fullmatch(name)] or None,
        pipeline_tag="video-classification" if has_classifier else "feature-extraction",
        model_name=repo_id,
        eval_results=eval_results or None,
    )
    settings = {
        key: run_info[key]
        for key in (
            "steps",
            "batch_size_per_process",
            "num_processes",
            "learning_rate",
            "optimizer",
            "mixed_precision",
            "seed",
            "num_skipped_videos",
        )
        if key in run_info
    }
    settings["frames per clip"] = getattr(config_object, "num_frames", None)  # V-JEPA 2 maps them from its own names
    settings["image size"] = getattr(config_object, "image_size", None)
    loader = jinja2.FileSystemLoader([str(method_dir), str(TEMPLATES)])
    environment = jinja2.Environment(loader=loader, keep_trailing_newline=True)
    content = environment.get_template(METHOD_TEMPLATE).render(
        card_data=card_data.to_yaml(),
        config=config,
        model_name=repo_id.split("/")[-1],
        repo_id=repo_id,
        method_name=config_object.method_name,
        backbone_name=backbone_name,
        hidden_size=hidden_size,
        provenance=provenance(run_info),
        training_settings=settings,
        loss_plot="training_loss.png" if (model_dir / "training_loss.png").is_file() else None,
        results_table=results_table,
        result_plots=list(result_plots),
    )
    path = model_dir / "README.md"
    ModelCard(content).save(path)
    return path


def write_finetuned_card(
    model_dir: str | os.PathLike,
    info: dict,
    repo_id: str | None = None,
    license: str = "apache-2.0",
) -> Path:
    """Render ``templates/finetuned.md`` into ``model_dir/README.md`` for a fine-tuned classifier. ``info``: what the
    run knows: ``base_model`` (folder, Hub id or preset), ``dataset``, ``eval_split``, ``class_names``, ``accuracy``
    (None when not evaluated, with ``eval_error``), ``chance``, ``num_eval_videos`` and the training settings
    (``steps``, ``learning_rate``, ``batch_size``, ``epochs``, ``seed``)."""
    model_dir = Path(model_dir)
    repo_id = repo_id or f"hfvid/{model_dir.name}"
    base = str(info["base_model"])
    from_hub = HUB_DATASET_ID.fullmatch(base) and not Path(base).exists()
    base_model_text = f"[`{base}`](https://huggingface.co/{base})" if from_hub else f"`{base}`"
    eval_results = None
    if info.get("accuracy") is not None:
        eval_results = [EvalResult(
            task_type="video-classification", dataset_type=str(info["dataset"]), dataset_name=str(info["dataset"]),
            dataset_split=info.get("eval_split", "test"), metric_type="accuracy", metric_name="Top-1 accuracy",
            metric_value=float(info["accuracy"]),
        )]  # fmt: skip
    card_data = ModelCardData(
        library_name="hfvid",
        license=license,
        tags=["video", "video-classification", "hfvid", "fine-tuned"],
        datasets=[str(info["dataset"])] if HUB_DATASET_ID.fullmatch(str(info["dataset"])) else None,
        base_model=base if from_hub else None,
        pipeline_tag="video-classification",
        model_name=repo_id,
        eval_results=eval_results,
    )
    settings = {key: info[key] for key in ("steps", "epochs", "batch_size", "learning_rate", "seed") if key in info}
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), keep_trailing_newline=True)
    content = environment.get_template("finetuned.md").render(
        card_data=card_data.to_yaml(), model_name=repo_id.split("/")[-1], repo_id=repo_id, base_model_text=base_model_text,
        dataset=info["dataset"], class_names=list(info["class_names"]), training_settings=settings,
        accuracy=info.get("accuracy"), chance=info.get("chance"), eval_split=info.get("eval_split", "test"),
        num_eval_videos=info.get("num_eval_videos"), eval_error=info.get("eval_error"),
    )  # fmt: skip
    path = model_dir / "README.md"
    ModelCard(content).save(path)
    return path
