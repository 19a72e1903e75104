"""Evaluate a pre-trained video model on frozen features: retrieval, kNN and linear probes, temporal tasks.

    python training/evaluate.py --model outputs/nextframe-r3d18-tiny-synthmotion --dataset synthmotion
    python training/evaluate.py --model user/transrank-r3d18 --dataset /data/ucf101_videofolder \\
        --protocols retrieval,linear --num_clips 10 --compare_random_init
    accelerate launch training/evaluate.py --model ... --dataset ...   # extraction split across processes

The model is loaded with ``AutoModel`` (the backbone of any hfvid checkpoint, e.g. a saved
``...ForPreTraining``) and ``AutoVideoProcessor``. Writes into --output_dir: results.json, results.md,
recall_at_k.png and confusion_matrix.png. --compare_random_init also evaluates the same architecture
with random weights (seeded by --seed) into <output_dir>/random_init/, and writes comparison.md and
recall_at_k_comparison.png. The results table (or the comparison) is printed.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from accelerate import PartialState
from accelerate.utils import set_seed
from transformers import AutoModel, AutoVideoProcessor

import hfvid  # noqa: F401  (registers hfvid's models with the Auto classes)
from hfvid.data.decoding import check_backend
from hfvid.data.sources import holds_out
from hfvid.evaluation.features import view_of
from hfvid.evaluation.report import (
    ALL_PROTOCOLS,
    PROTOCOLS,
    compare_table,
    evaluate_models,
    write_comparison,
    write_results,
)
from hfvid.models.modeling_utils import random_init_model
from hfvid.utils.cli import HelpFormatter, accept_dashes

RANDOM_INIT_NAME = "random init"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    group = parser.add_argument_group("model")
    group.add_argument("--model", required=True, help="saved model folder or Hub id (any hfvid model; its backbone is evaluated)")
    group.add_argument("--compare_random_init", action="store_true", help="also evaluate the same architecture with random weights, and compare")
    group = parser.add_argument_group("data")
    group.add_argument("--dataset", default="synthmotion", help="'synthmotion' (generated in --data_dir if missing), a videofolder directory, a CSV of path,label, or a Hub dataset name")
    group.add_argument("--dataset_config", default=None, help="config name of a Hub dataset")
    group.add_argument("--data_dir", default="data/synthmotion", help="where SynthMotion lives / is generated")
    group.add_argument("--train_split", default="train", help="split of the probes' training set and of the retrieval gallery")
    group.add_argument("--test_split", default="test", help="split that is scored (retrieval queries)")
    group.add_argument("--eval_holdout", type=float, default=0.2, help="a local source without --test_split (e.g. a folder of class folders and no split folders): score this fraction of --train_split, held out by a hash of each path, and train the probes on the rest (as finetune.py's --eval_holdout)")
    group.add_argument("--video_column", default="video", help="column holding the videos")
    group.add_argument("--label_column", default="label", help="column holding the class labels (ideally a ClassLabel, for class names)")
    group.add_argument("--frame_labels", default=None, help="folder of per-video frame-label files (<video stem>.txt: a label per line, or 'start end label' segments) for the frame-level protocols")
    group.add_argument("--frame_label_mapping", default=None, help="'<id> <name>' per line file giving the frame labels' ids (default: sorted names)")
    group.add_argument("--decode_backend", default="torchcodec", choices=["torchcodec", "pyav"], help="video decoder")
    group = parser.add_argument_group("evaluation")
    group.add_argument("--protocols", default=",".join(PROTOCOLS), help=f"comma-separated subset of {','.join(ALL_PROTOCOLS)} (the frame-level ones need per-frame features and frame labels)")
    group.add_argument("--num_clips", type=int, default=1, help="uniformly spaced clips per video, features averaged")
    group.add_argument("--feature", default="pooler_output", help="which output of the model is scored: pooler_output (the backbone's features), another output field (e.g. LSFD's stationary or non_stationary), several comma-separated (concatenated), or an alias the model declares (LSFD: both)")
    group.add_argument("--frame_window", type=int, default=None, help="frame-level protocols: each frame's feature is the model's feature of the clip of this many frames centred on it (for clip models without per-frame outputs, e.g. LSFD's non_stationary at its short views' length); default: the model's own per-frame features")
    group.add_argument("--batch_size", type=int, default=8, help="videos (clip pairs for sync/order) per model call")
    group.add_argument("--pairs_per_video", type=int, default=4, help="clip pairs per video for the sync and order tasks")
    group.add_argument("--seed", type=int, default=0, help="seeds the probes, the clip pairs and the random-init weights")
    group.add_argument("--cache_dir", default=None, help="cache extracted features here (default: no cache)")
    group.add_argument("--finetune_steps", type=int, default=0, help="also fine-tune end to end for this many steps with training/finetune.py (Trainer) and report its test top-1; 0 = off")
    group = parser.add_argument_group("output")
    group.add_argument("--output_dir", default=None, help="defaults to outputs/eval-<model>-<dataset>")
    group.add_argument("--no_progress", dest="progress", action="store_false", help="hide progress bars")
    return accept_dashes(parser)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.protocols = tuple(name.strip() for name in args.protocols.split(",") if name.strip())
    unknown = sorted(set(args.protocols) - set(ALL_PROTOCOLS))
    if unknown or not args.protocols:
        parser.error(f"--protocols: unknown or none {unknown}; choose from {','.join(ALL_PROTOCOLS)}")
    try:
        check_backend(args.decode_backend)
    except RuntimeError as error:
        parser.error(f"--decode_backend {args.decode_backend}: {error}")
    if args.output_dir is None:
        dataset_name = Path(args.dataset.rstrip("/")).name.replace(".csv", "")
        args.output_dir = os.path.join("outputs", f"eval-{model_name(args.model)}-{dataset_name}")
    return args


def model_name(model: str) -> str:
    """Display name of a model folder or Hub id: its last path component."""
    return Path(model.rstrip("/")).name


def main(argv: list[str] | None = None) -> dict[str, dict]:
    """Evaluate ``--model`` (and its random init), write the reports, print the table; returns results by model."""
    args = parse_args(argv)
    state = PartialState()
    model = AutoModel.from_pretrained(args.model).to(state.device)
    processor = AutoVideoProcessor.from_pretrained(args.model)
    evaluate = dict(
        source=args.dataset, train_split=args.train_split, test_split=args.test_split, protocols=args.protocols,
        num_clips=args.num_clips, batch_size=args.batch_size, pairs_per_video=args.pairs_per_video, seed=args.seed,
        video_column=args.video_column, label_column=args.label_column, backend=args.decode_backend,
        cache_dir=args.cache_dir, progress=args.progress, synthmotion_dir=args.data_dir, config_name=args.dataset_config,
        frame_labels=args.frame_labels, frame_label_mapping=args.frame_label_mapping, frame_window=args.frame_window,
        holdout_fraction=args.eval_holdout or None,
    )  # fmt: skip
    held_out = held_out_note(args)
    if held_out and state.is_main_process:
        print(held_out)
    name = model_name(args.model)
    models = {name: view_of(model, args.feature)}
    if args.compare_random_init:
        set_seed(args.seed)
        models[RANDOM_INIT_NAME] = view_of(random_init_model(model.config, args.seed).to(state.device), args.feature)
    results_by_model = evaluate_models(models, processor, **evaluate)  # one pass over the videos for both
    if held_out:
        for results in results_by_model.values():
            results["data"]["held_out"] = held_out
    if args.finetune_steps > 0:
        add_finetune_results(args, model, processor, results_by_model)
    if state.is_main_process:
        output_dir = Path(args.output_dir)
        write_results(results_by_model[name], output_dir, name)
        if args.compare_random_init:
            write_results(results_by_model[RANDOM_INIT_NAME], output_dir / "random_init", RANDOM_INIT_NAME)
            write_comparison(results_by_model, output_dir)
        print(compare_table(results_by_model))
        print(f"results written to {output_dir}")
    return results_by_model


def held_out_note(args: argparse.Namespace) -> str | None:
    """A sentence saying what is scored when ``--dataset`` has no ``--test_split`` and a part of ``--train_split`` is
    held out instead (``--eval_holdout``); None when the source has its own test split."""
    if not holds_out(args.dataset, args.test_split, args.eval_holdout):
        return None
    return (
        f"{args.dataset} has no {args.test_split!r} split: scoring a deterministic {args.eval_holdout:.0%} of "
        f"{args.train_split!r} held out by a hash of each video's path; the probes train on the rest"
    )


def add_finetune_results(args: argparse.Namespace, model, processor, results_by_model: dict[str, dict]) -> None:
    """Fine-tune each evaluated model through training/finetune.py and add its test top-1 as ``finetune_top1``."""
    import finetune  # training/finetune.py, next to this script

    sources = {model_name(args.model): args.model}
    if RANDOM_INIT_NAME in results_by_model:
        set_seed(args.seed)
        random_folder = Path(args.output_dir) / "random_init" / "weights"
        random_init_model(model.config, args.seed).save_pretrained(random_folder)
        processor.save_pretrained(random_folder)
        sources[RANDOM_INIT_NAME] = str(random_folder)
    for name, source in sources.items():
        options = [
            "--model", source, "--dataset", args.dataset, "--data_dir", args.data_dir, "--train_split", args.train_split,
            "--eval_split", args.test_split, "--eval_holdout", str(args.eval_holdout), "--video_column", args.video_column,
            "--label_column", args.label_column,
            "--max_steps", str(args.finetune_steps), "--seed", str(args.seed),
            "--output_dir", str(Path(args.output_dir) / "finetune" / name.replace(" ", "_")),
        ]  # fmt: skip
        metrics = finetune.finetune(finetune.build_parser().parse_args(options))
        results_by_model[name]["metrics"]["finetune_top1"] = metrics["eval_accuracy"]


if __name__ == "__main__":
    main()
