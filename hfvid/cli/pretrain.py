"""Self-supervised pre-training of any hfvid method, under `accelerate launch` or plain `python`.

    accelerate launch training/pretrain.py                      # the main job: tiny NextFrame on SynthMotion
    accelerate launch --multi_gpu --num_processes 2 training/pretrain.py   # 2 processes (GPUs, or CPU/gloo)
    accelerate launch training/pretrain.py --model moco-r3d18-tiny --config_overrides queue_size=1024
    accelerate launch training/pretrain.py --model transrank-r3d18 --dataset /data/ucf101_videofolder \\
        --batch_size 16 --max_steps 20000 --mixed_precision bf16
    python training/pretrain.py --config my_run.yaml --max_steps 100   # YAML keys = option names

The loop knows no method: the method's video processor turns each video into named views
(`hfvid.data.pretraining`), the loop calls ``model(**views)`` (plus the batch entries ``forward`` names, such as
``video_ids``) and backpropagates ``output.loss``, and after every optimiser step it calls
``model.after_optimizer_step(step, max_steps)`` (momentum encoders, queues, schedules). Data is streamed (`datasets` IterableDataset,
shuffle buffer, disjoint shards per process); unreadable videos are skipped and counted. Checkpoints
are written atomically every ``--checkpointing_steps``; ``--resume`` continues from the newest one
and reproduces the uninterrupted run exactly on CPU.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import sys
import time
from pathlib import Path

import torch
import yaml
from accelerate import Accelerator
from accelerate.utils import gather_object, set_seed
from datasets.distributed import split_dataset_by_node
from huggingface_hub.repocard_data import model_index_to_eval_results
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import AutoConfig, AutoModel, get_cosine_schedule_with_warmup
from transformers.image_utils import SizeDict
from transformers.utils import logging as transformers_logging

from hfvid.convert.checkpoint import backbone_checkpoint_config, load_backbone_checkpoint
from hfvid.data.decoding import check_backend
from hfvid.data.pretraining import PretrainingClips, collate_pretraining, write_unreadable
from hfvid.data.sources import holds_out, iterable_in_shards, load_video_dataset
from hfvid.evaluation.plots import plot_training_loss
from hfvid.evaluation.report import (
    PROTOCOLS,
    compare_table,
    evaluate_models,
    to_model_index,
    write_comparison,
    write_results,
)
from hfvid.hub.model_card import write_model_card
from hfvid.hub.push import push_model_folder, push_report
from hfvid.models import method_config
from hfvid.models.modeling_utils import random_init_model
from hfvid.presets import list_configs, load_for_pretraining
from hfvid.utils.cli import HelpFormatter, accept_dashes, parse_config_overrides

CHECKPOINT_PREFIX = "checkpoint-"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    add = parser.add_argument
    add("--config", help="YAML file whose keys are option names (without --); command-line options win")
    group = parser.add_argument_group("model")
    group.add_argument("--model", default="nextframe-r3d18-tiny", help="preset name (see hfvid.list_configs()) or a saved model folder / Hub id to continue from")
    group.add_argument("--config_overrides", default=None, help="comma-separated config fields for a preset, e.g. 'queue_size=1024,loss_temperature=0.1' (values parsed as YAML)")
    group.add_argument("--processor_overrides", default=None, help="comma-separated video processor fields, e.g. 'crop_scale=[0.6, 1.0],flip_p=0' (values parsed as YAML)")
    group.add_argument("--init_backbone", default=None, help="backbone checkpoint folder to start from (python -m hfvid.convert.torchvision, python -m hfvid.convert.transformers_vit); a preset takes its architecture")
    group = parser.add_argument_group("data")
    group.add_argument("--dataset", default="synthmotion", help="'synthmotion' (generated if missing), a videofolder directory, a CSV of path,label, or a Hub dataset name")
    group.add_argument("--dataset_config", default=None, help="config name of a Hub dataset")
    group.add_argument("--data_dir", default="data/synthmotion", help="where SynthMotion lives / is generated")
    group.add_argument("--split", default="train")
    group.add_argument("--video_column", default="video")
    group.add_argument("--no_streaming", dest="streaming", action="store_false", help="load the data set fully instead of streaming it")
    group.add_argument("--shuffle_buffer", type=int, default=1000, help="size of the streaming shuffle buffer (videos)")
    group.add_argument("--num_workers", type=int, default=0, help="DataLoader worker processes for decoding and augmentation")
    group.add_argument("--decode_backend", default="torchcodec", choices=["torchcodec", "pyav"])
    group.add_argument("--decode_cache_mb", type=float, default=1024, help="decoded videos each training process keeps in memory, so that later epochs do not decode them again (without loader workers only; the same samples; 0 turns it off)")
    group = parser.add_argument_group("optimisation")
    group.add_argument("--batch_size", type=int, default=8, help="videos per process and step")
    group.add_argument("--max_steps", type=int, default=2000, help="optimiser steps (the default is the main job's budget: about 2.5 min for the tiny preset on 2 CPU cores)")
    group.add_argument("--gradient_accumulation_steps", type=int, default=1)
    group.add_argument("--optimizer", default="adamw", choices=["adamw", "sgd"])
    group.add_argument("--learning_rate", type=float, default=3e-3, help="peak learning rate (3e-3 shortens the tiny models' plateau; docs/learning.md)")
    group.add_argument("--weight_decay", type=float, default=1e-4)
    group.add_argument("--momentum", type=float, default=0.9, help="SGD momentum")
    group.add_argument("--warmup_steps", type=int, default=20)
    group.add_argument("--max_grad_norm", type=float, default=1.0, help="gradient clipping; 0 disables it")
    group.add_argument("--mixed_precision", default="no", choices=["no", "bf16", "fp16"])
    group.add_argument("--no_cudnn_benchmark", dest="cudnn_benchmark", action="store_false", help="on a GPU, do not let cuDNN time its convolution algorithms for the run's fixed clip shapes (torch.backends.cudnn.benchmark; what it saves, measured: docs/results/backbones_gpu.md)")
    group.add_argument("--seed", type=int, default=0)
    group = parser.add_argument_group("evaluation (after pre-training, against the same model with random weights)")
    group.add_argument("--no_evaluate", dest="evaluate", action="store_false", help="skip the evaluation")
    group.add_argument("--eval_split", default="test", help="queries / probe test set; --split is the gallery / probe train set")
    group.add_argument("--eval_protocols", default="retrieval,knn,linear", help=f"comma-separated, from {','.join(PROTOCOLS)}")
    group.add_argument("--eval_num_clips", type=int, default=1, help="clips averaged per video")
    group.add_argument("--eval_holdout", type=float, default=0.2, help="a labelled source without --eval_split is evaluated on this fraction of --split, held out by a hash of each path (the backbone saw those videos, without labels, in pre-training)")
    group = parser.add_argument_group("output")
    group.add_argument("--output_dir", default=None, help="defaults to outputs/<model>-<dataset>")
    group.add_argument("--logging_steps", type=int, default=10)
    group.add_argument("--checkpointing_steps", type=int, default=100)
    group.add_argument("--checkpoints_total_limit", type=int, default=2, help="checkpoints kept")
    group.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in output_dir")
    group.add_argument("--push_to_hub", action="store_true", help="upload model, processor, card and plots in one commit")
    group.add_argument("--hub_model_id", default=None, help="repo id for --push_to_hub (default: the output folder's name)")
    group.add_argument("--private", action="store_true", help="create the Hub repo private")
    group.add_argument("--dry_run", action="store_true", help="with --push_to_hub: write what would be uploaded to <output_dir>-upload instead")
    return accept_dashes(parser)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args, _ = parser.parse_known_args(argv)
    if args.config:
        options = yaml.safe_load(Path(args.config).read_text()) or {}
        unknown = sorted(set(options) - set(vars(args)))
        if unknown:
            parser.error(f"{args.config}: unknown options {unknown}")
        parser.set_defaults(**options)
    args = parser.parse_args(argv)
    try:
        check_backend(args.decode_backend)
    except RuntimeError as error:
        parser.error(f"--decode_backend {args.decode_backend}: {error}")
    if args.output_dir is None:
        dataset_name = Path(args.dataset.rstrip("/")).name.replace(".csv", "")
        args.output_dir = os.path.join("outputs", f"{Path(args.model.rstrip('/')).name}-{dataset_name}")
    return args


class RunState:
    """Where the run is: optimiser steps, epoch, batches of this process in the epoch, the rows of each DataLoader
    worker's share consumed in the epoch (resuming starts there without decoding them again), and the unreadable
    videos this process met (video -> reason; each counted once however many epochs meet it)."""

    def __init__(self):
        self.step, self.epoch, self.batches_in_epoch = 0, 0, 0
        self.progress: dict[str, int] = {}
        self.unreadable: dict[str, str] = {}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(vars(self)))

    def load(self, path: Path) -> None:
        vars(self).update(json.loads(path.read_text()))


def checkpoints(output_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first (a checkpoint folder appears only once fully written)."""
    found = [p for p in (output_dir / "checkpoints").glob(f"{CHECKPOINT_PREFIX}*") if p.name[len(CHECKPOINT_PREFIX) :].isdigit()]
    return sorted(found, key=lambda p: int(p.name[len(CHECKPOINT_PREFIX) :]))


def save_checkpoint(accelerator: Accelerator, state: RunState, output_dir: Path, keep: int) -> None:
    """Write the checkpoint into a temporary folder, then rename it: a kill mid-save leaves the previous one intact."""
    final = output_dir / "checkpoints" / f"{CHECKPOINT_PREFIX}{state.step}"
    partial = final.with_name(f"partial-{final.name}")
    if accelerator.is_main_process and partial.exists():
        shutil.rmtree(partial)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(partial))
    state.save(partial / f"run_state_{accelerator.process_index}.json")
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        if final.exists():
            shutil.rmtree(final)
        os.replace(partial, final)
        for old in checkpoints(output_dir)[:-keep]:
            shutil.rmtree(old)
    accelerator.wait_for_everyone()


def video_stream(args, rank: int, world_size: int):
    """This process's share of the videos: a shuffled `datasets` IterableDataset, disjoint across processes."""
    dataset = load_video_dataset(
        args.dataset,
        split=args.split,
        streaming=args.streaming,
        config_name=args.dataset_config,
        synthmotion_dir=args.data_dir,
        decode=False,
        video_column=args.video_column,
    )
    if not args.streaming:
        dataset = iterable_in_shards(dataset)
    dataset = dataset.shuffle(seed=args.seed, buffer_size=args.shuffle_buffer)
    return split_dataset_by_node(dataset, rank=rank, world_size=world_size)


def make_loader(args, processor, accelerator: Accelerator) -> tuple[PretrainingClips, DataLoader]:
    dataset = video_stream(args, accelerator.process_index, accelerator.num_processes)
    clips = PretrainingClips(
        dataset,
        processor,
        video_column=args.video_column,
        seed=args.seed,
        rank=accelerator.process_index,
        backend=args.decode_backend,
        decode_cache_mb=args.decode_cache_mb,
    )
    loader = DataLoader(
        clips,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        collate_fn=collate_pretraining,
        # A worker's last, incomplete batch comes too, for the unreadable videos it may report; the loop trains on
        # complete batches only (no batch of one video: BatchNorm in training mode needs two).
        drop_last=False,
        persistent_workers=False,
    )
    return clips, loader


def scalar_metrics(output) -> dict[str, float]:
    """The mean of every tensor in the dict-valued fields of a model output (per-task losses, accuracies), as
    ``"<field>/<key>"`` scalars."""
    return {
        f"{field}/{key}": value.detach().float().mean().item()
        for field, entries in output.items()
        if isinstance(entries, dict)
        for key, value in entries.items()
        if torch.is_tensor(value)
    }


def forward_arguments(model) -> set[str]:
    """The batch entries ``model.forward`` takes by name (as `Trainer` keeps only the columns a model uses)."""
    return set(inspect.signature(model.forward).parameters) - {"self", "kwargs", "return_dict"}


def train(args: argparse.Namespace) -> dict:
    """Run pre-training; returns the run summary that is also written to ``training_info.json``."""
    output_dir = Path(args.output_dir)
    accelerator = Accelerator(
        # Without a GPU, run on CPU processes (gloo) even under `accelerate launch --multi_gpu`.
        cpu=not torch.accelerator.is_available(),
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        mixed_precision=args.mixed_precision,
        log_with="tensorboard",
        project_dir=str(output_dir),
    )
    set_seed(args.seed)
    if accelerator.device.type == "cuda":
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
    if accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
    overrides = parse_config_overrides(args.config_overrides)
    if args.init_backbone and args.model in list_configs() and "backbone" not in overrides:
        overrides["backbone"] = backbone_checkpoint_config(args.init_backbone)  # the preset takes its architecture
    model, processor = load_for_pretraining(args.model, **overrides)
    model.train()  # from_pretrained returns a model in eval mode
    for key, value in parse_config_overrides(args.processor_overrides).items():
        if key not in processor.valid_kwargs.__annotations__:
            raise ValueError(f"--processor_overrides: {type(processor).__name__} has no field {key!r}")
        if isinstance(getattr(processor, key, None), SizeDict) and isinstance(value, dict):
            value = SizeDict(**value)  # e.g. crop_size={height: 64, width: 64}, as the processor's __init__ stores it
        setattr(processor, key, value)
    if args.init_backbone:
        load_backbone_checkpoint(model.base_model.backbone, args.init_backbone)
    clips, loader = make_loader(args, processor, accelerator)
    params = [p for p in model.parameters() if p.requires_grad]
    if args.optimizer == "adamw":
        optimizer = torch.optim.AdamW(params, lr=args.learning_rate, weight_decay=args.weight_decay)
    else:
        optimizer = torch.optim.SGD(params, lr=args.learning_rate, momentum=args.momentum, weight_decay=args.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(optimizer, args.warmup_steps, args.max_steps)
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    accelerator.init_trackers("pretrain", config={k: v for k, v in vars(args).items() if isinstance(v, (int, float, str, bool))})

    state = RunState()
    if args.resume and checkpoints(output_dir):
        latest = checkpoints(output_dir)[-1]
        accelerator.load_state(str(latest))
        state.load(latest / f"run_state_{accelerator.process_index}.json")
        accelerator.print(f"resumed from {latest} at step {state.step}")

    unwrapped = accelerator.unwrap_model(model)
    accepted = forward_arguments(unwrapped)
    metrics_path = output_dir / "metrics.jsonl"
    progress = tqdm(total=args.max_steps, initial=state.step, desc="pre-training", disable=not accelerator.is_main_process)
    videos_read = 0
    started, step_started, videos_seen = time.perf_counter(), time.perf_counter(), 0
    while state.step < args.max_steps:
        clips.set_epoch(state.epoch)
        clips.resume_from(state.progress)  # resuming: each worker starts after the rows it had consumed
        batches = iter(loader)
        if state.batches_in_epoch and not state.progress:  # a checkpoint of an older version: regenerate and drop
            for _ in range(state.batches_in_epoch):
                next(batches)
        for batch in batches:
            state.batches_in_epoch += 1
            for worker, position in batch["progress"].items():
                state.progress[str(worker)] = max(state.progress.get(str(worker), 0), position)
            state.unreadable.update({entry["video"]: entry["reason"] for entry in batch["skipped"]})
            if batch["num_videos"] == 0 or batch["num_samples"] < args.batch_size:
                continue
            videos_read += batch["num_videos"]
            videos_seen += batch["num_videos"]
            inputs = {name: value.to(accelerator.device) for name, value in batch.items() if name in accepted}
            with accelerator.accumulate(model):
                output = model(**inputs)
                accelerator.backward(output.loss)
                if accelerator.sync_gradients and args.max_grad_norm > 0:
                    accelerator.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            if not accelerator.sync_gradients:
                continue
            state.step += 1
            if hasattr(unwrapped, "after_optimizer_step"):  # a transformers model (VideoMAE) has no per-step work
                unwrapped.after_optimizer_step(state.step, args.max_steps)
            progress.update(1)
            loss = accelerator.reduce(output.loss.detach(), reduction="mean").item()
            if state.step % args.logging_steps == 0 or state.step == args.max_steps:
                elapsed = time.perf_counter() - step_started
                metrics = {
                    "loss": loss,
                    "lr": scheduler.get_last_lr()[0],
                    "videos_per_second": videos_seen * accelerator.num_processes / max(elapsed, 1e-9),
                    **scalar_metrics(output),
                }
                accelerator.log(metrics, step=state.step)
                progress.set_postfix(loss=f"{loss:.4g}")  # 4 significant digits: a regression loss of 1e-3 shows
                step_started, videos_seen = time.perf_counter(), 0
            if accelerator.is_main_process:
                with metrics_path.open("a") as f:
                    f.write(json.dumps({"step": state.step, "loss": loss}) + "\n")
            if state.step % args.checkpointing_steps == 0 or state.step == args.max_steps:
                save_checkpoint(accelerator, state, output_dir, args.checkpoints_total_limit)
            if state.step >= args.max_steps:
                break
        else:
            state.epoch += 1
            state.batches_in_epoch = 0
            state.progress = {}
            if state.step == 0 and state.epoch > 1 and videos_read == 0:
                raise RuntimeError(
                    f"no batch of {args.batch_size} readable videos in {args.dataset} ({len(state.unreadable)} unreadable "
                    "videos skipped; a last incomplete batch is dropped): check the data or lower --batch_size"
                )
    progress.close()

    unreadable = {video: reason for found in gather_object([state.unreadable]) for video, reason in found.items()}
    num_skipped = len(unreadable)
    summary = {
        "model": args.model,
        "dataset": args.dataset,
        "split": args.split,
        "steps": state.step,
        "epochs_started": state.epoch + 1,
        "batch_size_per_process": args.batch_size,
        "num_processes": accelerator.num_processes,
        "gradient_accumulation_steps": args.gradient_accumulation_steps,
        "learning_rate": args.learning_rate,
        "optimizer": args.optimizer,
        "mixed_precision": args.mixed_precision,
        "seed": args.seed,
        "num_skipped_videos": num_skipped,
        "wall_seconds_this_session": round(time.perf_counter() - started, 1),
        "device": str(accelerator.device),
    }
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        unwrapped.save_pretrained(output_dir)
        processor.save_pretrained(output_dir)
        (output_dir / "training_info.json").write_text(json.dumps(summary, indent=2) + "\n")
        listed = write_unreadable(output_dir, unreadable)
        print(f"skipped {num_skipped} unreadable videos, listed in {listed}" if num_skipped else "no unreadable videos")
    accelerator.end_training()
    if accelerator.is_main_process:
        report(args, processor, summary)
    return summary


def evaluation_data(args: argparse.Namespace) -> tuple[bool, str]:
    """Whether the run can be evaluated and how: (False, why not) for a source without labels, else (True, a
    sentence on the test data: the source's own --eval_split, or a held-out part of --split)."""
    options = dict(decode=False, video_column=args.video_column, config_name=args.dataset_config, synthmotion_dir=args.data_dir)
    train = load_video_dataset(args.dataset, split=args.split, **options)
    if "label" not in train.features:
        return False, f"{args.dataset} has no labels, so the frozen-feature evaluation (probes, retrieval by class) is skipped"
    if holds_out(args.dataset, args.eval_split, args.eval_holdout):
        return True, (
            f"Evaluated on a deterministic {args.eval_holdout:.0%} of the {args.split!r} split held out by a hash of each "
            f"video's path ({args.dataset} has no {args.eval_split!r} split); the backbone saw those videos, without "
            "labels, in pre-training."
        )
    return True, f"Evaluated on the {args.eval_split!r} split of {args.dataset}."


def evaluate_against_random_init(args: argparse.Namespace, processor) -> dict[str, dict]:
    """Frozen-feature protocols for the pre-trained backbone and for the same architecture with random weights."""
    output_dir = Path(args.output_dir)
    # The pre-training heads (e.g. VideoMAE's decoder) are expected left-overs; a missing weight is an error.
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        pretrained, loading = AutoModel.from_pretrained(output_dir, output_loading_info=True)
    finally:
        transformers_logging.set_verbosity(verbosity)
    if loading["missing_keys"]:
        raise RuntimeError(f"{output_dir} lacks weights of {type(pretrained).__name__}: {sorted(loading['missing_keys'])}")
    random_init = random_init_model(pretrained.config, args.seed)
    settings = dict(
        source=args.dataset, train_split=args.split, test_split=args.eval_split, protocols=args.eval_protocols.split(","),
        num_clips=args.eval_num_clips, batch_size=args.batch_size, seed=args.seed, video_column=args.video_column,
        backend=args.decode_backend, cache_dir=output_dir / "eval_cache", synthmotion_dir=args.data_dir,
        config_name=args.dataset_config, holdout_fraction=args.eval_holdout,
    )  # fmt: skip
    return evaluate_models({"pre-trained": pretrained, "random init": random_init}, processor, **settings)


def report(args: argparse.Namespace, processor, summary: dict) -> None:
    """Loss plot, evaluation (unless --no_evaluate), results files and the model card, in the model folder. The
    model is already saved: an evaluation that cannot run (no labels) or fails is reported, never fatal."""
    output_dir = Path(args.output_dir)
    rows = [json.loads(line) for line in (output_dir / "metrics.jsonl").read_text().splitlines()]
    losses = {row["step"]: row["loss"] for row in rows}  # a resumed run rewrote the steps after its checkpoint
    plot_training_loss(list(losses), list(losses.values()), output_dir / "training_loss.png")
    dataset_name = Path(args.dataset).name if Path(args.dataset).exists() else args.dataset
    card = dict(dataset_names=[dataset_name])
    table = None
    if args.evaluate:
        try:
            possible, note = evaluation_data(args)
            if not possible:
                print(note)
            else:
                results = evaluate_against_random_init(args, processor)
                write_results(results["pre-trained"], output_dir, output_dir.name)
                write_comparison(results, output_dir)
                table = compare_table(results)
                model_index = to_model_index(results["pre-trained"], output_dir.name, dataset_name, dataset_name)
                _, eval_results = model_index_to_eval_results(model_index)
                plots = [p for p in ("recall_at_k_comparison.png", "confusion_matrix.png") if (output_dir / p).is_file()]
                card.update(eval_results=eval_results, results_table=f"{note}\n\n{table}", result_plots=plots)
        except Exception as error:  # the trained model is saved: report and go on to the card
            print(f"evaluation failed, the model is saved without it: {type(error).__name__}: {error}")
    config = method_config(AutoConfig.from_pretrained(output_dir))  # a transformers-native folder: the method's class
    write_model_card(output_dir, summary, repo_id=args.hub_model_id, config_object=config, **card)
    print(f"model, processor, card and plots in {output_dir}")
    if args.push_to_hub:
        dry_run_dir = f"{output_dir}-upload" if args.dry_run else None
        done = push_model_folder(output_dir, args.hub_model_id or output_dir.name, private=args.private, dry_run_dir=dry_run_dir)
        print(push_report(done, dry_run=args.dry_run))
    if table:
        print(f"\n{output_dir.name} after {summary['steps']} steps, {dataset_name}: {note}\n\n{table}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    train(args)


if __name__ == "__main__":
    main(sys.argv[1:])
