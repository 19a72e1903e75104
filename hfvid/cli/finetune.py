"""Fine-tune a pre-trained hfvid model for video classification with `transformers.Trainer`.

    python training/finetune.py --model outputs/nextframe-r3d18-tiny-synthmotion --dataset synthmotion
    python training/finetune.py --model transrank-r3d18-tiny --dataset synthmotion   # a preset: from random weights
    accelerate launch training/finetune.py --model hfvid/transrank-r3d18 --dataset /data/ucf101 \\
        --learning_rate 1e-3 --num_train_epochs 30 --bf16

Any hfvid checkpoint works (``AutoModelForVideoClassification`` drops its pre-training heads and adds
a classifier). The data is any source `hfvid.data.sources.load_video_dataset` accepts: SynthMotion, a
videofolder, a CSV of ``path,label``, or a Hub dataset with a video and a label column. Clips are
decoded and augmented by `VideoClassificationCollator` in the DataLoader workers; its horizontal flip
also flips left/right and clockwise/counter-clockwise class labels (``--flip_p 0``: no flips). TransRank's authors
note that fine-tuning from TransRank wants a larger learning rate than from contrastive models.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from transformers import AutoModelForVideoClassification, AutoVideoProcessor, Trainer, TrainingArguments, set_seed

import hfvid  # registers the hfvid models with the Auto classes
from hfvid.data.collators import VideoClassificationCollator, readable_videos
from hfvid.data.pretraining import write_unreadable
from hfvid.data.sources import load_video_dataset
from hfvid.hub.model_card import write_finetuned_card
from hfvid.hub.push import push_model_folder, push_report
from hfvid.models import processor_for_config
from hfvid.utils.cli import HelpFormatter, accept_dashes, parse_config_overrides


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    add = parser.add_argument
    add("--model", required=True, help="pre-trained hfvid model folder or Hub id, or a preset name (hfvid.list_configs()) to train from random weights")
    add("--config_overrides", default=None, help="with a preset --model: comma-separated config fields, e.g. 'backbone={arch: r3d, layers: [1, 1, 1, 1], input: frame_difference}' (values parsed as YAML)")
    add("--dataset", default="synthmotion", help="'synthmotion', a videofolder directory, a CSV of path,label, or a Hub dataset")
    add("--dataset_config", default=None)
    add("--data_dir", default="data/synthmotion", help="where SynthMotion lives / is generated")
    add("--train_split", default="train")
    add("--eval_split", default="test")
    add("--eval_holdout", type=float, default=0.2, help="a source without --eval_split trains on the rest of --train_split and evaluates on this fraction of it, held out by a hash of each path")
    add("--video_column", default="video")
    add("--label_column", default="label")
    add("--output_dir", default=None, help="defaults to <model>-finetuned")
    add("--num_train_epochs", type=float, default=3)
    add("--max_steps", type=int, default=-1, help="overrides --num_train_epochs when > 0")
    add("--per_device_train_batch_size", type=int, default=8)
    add("--per_device_eval_batch_size", type=int, default=8)
    add("--learning_rate", type=float, default=1e-3)
    add("--weight_decay", type=float, default=1e-4)
    add("--warmup_steps", type=int, default=0)
    add("--crop_scale", type=float, nargs=2, default=None, metavar=("MIN", "MAX"), help="RandomResizedCrop area range in training (default: the model's video processor's)")
    add("--flip_p", type=float, default=0.5, help="horizontal flip probability in training; a flip also flips left/right and clockwise/counter-clockwise labels (see VideoClassificationCollator)")
    add("--dataloader_num_workers", type=int, default=0)
    add("--logging_steps", type=int, default=10)
    add("--bf16", action="store_true")
    add("--seed", type=int, default=0)
    add("--push_to_hub", action="store_true", help="upload the fine-tuned model, processor, code and card (not the run's logs) to --hub_model_id")
    add("--hub_model_id", default=None, help="repo id to push to and to name in the card (default: the output folder's name)")
    return accept_dashes(parser)


def accuracy(eval_prediction) -> dict[str, float]:
    """Top-1 accuracy (computed here: `evaluate.load("accuracy")` would fetch its script from the Hub)."""
    logits, labels = eval_prediction
    return {"accuracy": float((np.argmax(logits, axis=-1) == labels).mean())}


def finetune(args: argparse.Namespace) -> dict:
    """Fine-tune and evaluate; returns the final evaluation metrics."""
    output_dir = args.output_dir or (
        f"outputs/{args.model}-supervised" if args.model in hfvid.list_configs() else f"{args.model.rstrip('/')}-finetuned"
    )
    data = dict(
        config_name=args.dataset_config, synthmotion_dir=args.data_dir, decode=False, video_column=args.video_column,
        holdout_fraction=args.eval_holdout,
    )
    train_dataset = load_video_dataset(args.dataset, split=args.train_split, **data)
    if args.label_column not in train_dataset.features:
        raise ValueError(f"{args.dataset} has no {args.label_column!r} column: fine-tuning needs labelled videos")
    eval_dataset = load_video_dataset(args.dataset, split=args.eval_split, **data)
    class_names = train_dataset.features[args.label_column].names
    labels = dict(
        num_labels=len(class_names),
        id2label=dict(enumerate(class_names)),
        label2id={name: i for i, name in enumerate(class_names)},
    )
    overrides, is_preset = parse_config_overrides(args.config_overrides), args.model in hfvid.list_configs()
    if overrides and not is_preset:
        raise ValueError(f"--config_overrides applies to a preset --model (random weights); {args.model!r} is a trained model")
    if is_preset:  # a preset: random weights (the supervised baseline)
        set_seed(args.seed)
        config = hfvid.get_config(args.model, **overrides, **labels)
        model, processor = AutoModelForVideoClassification.from_config(config), processor_for_config(config)
    else:
        model = AutoModelForVideoClassification.from_pretrained(args.model, **labels)
        processor = AutoVideoProcessor.from_pretrained(args.model)
    columns = dict(video_column=args.video_column, label_column=args.label_column)
    training_args = TrainingArguments(
        output_dir=output_dir,
        num_train_epochs=args.num_train_epochs,
        max_steps=args.max_steps,
        per_device_train_batch_size=args.per_device_train_batch_size,
        per_device_eval_batch_size=args.per_device_eval_batch_size,
        learning_rate=args.learning_rate,
        weight_decay=args.weight_decay,
        warmup_steps=args.warmup_steps,
        lr_scheduler_type="cosine",
        eval_strategy="no",  # evaluated once at the end, with the evaluation collator (no augmentation)
        save_strategy="no",
        logging_steps=args.logging_steps,
        dataloader_num_workers=args.dataloader_num_workers,
        remove_unused_columns=False,
        bf16=args.bf16,
        seed=args.seed,
        report_to=["tensorboard"],
    )
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        data_collator=VideoClassificationCollator(
            processor, train=True, crop_scale=args.crop_scale, flip_p=args.flip_p, class_names=class_names,
            fallback=train_dataset, **columns,
        ),
        compute_metrics=accuracy,
    )
    trainer.train()
    unreadable = dict(trainer.data_collator.unreadable)  # what this process's collator met (with no DataLoader workers: all)
    trainer.save_model(output_dir)  # before the evaluation: whatever happens there, the trained model is kept
    processor.save_pretrained(output_dir)
    trainer.eval_dataset, unopened = readable_videos(eval_dataset, args.video_column)
    unreadable.update(unopened)
    trainer.data_collator = VideoClassificationCollator(processor, train=False, fallback=trainer.eval_dataset, **columns)
    try:
        if len(trainer.eval_dataset) == 0:
            raise ValueError(f"no readable video to evaluate on ({len(unopened)} unreadable in the evaluation split)")
        metrics = trainer.evaluate()
    except Exception as error:  # noqa: BLE001 - the model is saved; say why there is no evaluation
        metrics = {"eval_error": f"{type(error).__name__}: {error}"}
        print(f"evaluation failed (the fine-tuned model is saved in {output_dir}): {metrics['eval_error']}")
    unreadable.update(trainer.data_collator.unreadable)
    if unreadable:
        print(f"skipped {len(unreadable)} unreadable videos, listed in {write_unreadable(output_dir, unreadable)}")
    Path(output_dir, "eval_results.json").write_text(json.dumps(metrics, indent=2) + "\n")
    eval_labels = [int(label) for label in trainer.eval_dataset[args.label_column]] if "eval_error" not in metrics else []
    write_finetuned_card(output_dir, dict(
        base_model=args.model, dataset=Path(args.dataset).name if Path(args.dataset).exists() else args.dataset,
        eval_split=args.eval_split, class_names=class_names, accuracy=metrics.get("eval_accuracy"),
        chance=max(np.bincount(eval_labels)) / len(eval_labels) if eval_labels else None,
        num_eval_videos=len(eval_labels), eval_error=metrics.get("eval_error"), steps=trainer.state.global_step,
        epochs=round(trainer.state.epoch or 0, 2), batch_size=args.per_device_train_batch_size,
        learning_rate=args.learning_rate, seed=args.seed,
    ), repo_id=args.hub_model_id)  # fmt: skip
    if args.push_to_hub:  # weights, processor, code and card; the run's logs and Trainer state stay local
        print(push_report(push_model_folder(output_dir, args.hub_model_id or Path(output_dir).name), dry_run=False))
    return metrics


def main(argv: list[str] | None = None) -> None:
    metrics = finetune(build_parser().parse_args(argv))
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
