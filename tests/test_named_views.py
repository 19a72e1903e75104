"""The pre-training contract: a processor turns a video into named views, a generic collate stacks them, the loop
calls ``model(**views)`` and, once per optimiser step, ``model.after_optimizer_step``. Proved with DualView
(tests/dualview/), a method defined only in the tests: two backbones and two views of different length and
resolution, pre-trained by training/pretrain.py without any change to training/, hfvid/data/ or another method."""

from __future__ import annotations

import json

import dualview
import numpy as np
import torch
from conftest import run_in_process
from safetensors.torch import load_file
from transformers import AutoModel, AutoModelForPreTraining, AutoVideoProcessor, Trainer, TrainingArguments

from hfvid.data.decoding import VideoReader
from hfvid.data.pretraining import collate_pretraining
from hfvid.presets import get_config
from hfvid.utils.callbacks import AfterOptimizerStepCallback

RUN = ["--batch_size", "2", "--logging_steps", "1", "--warmup_steps", "1", "--no_evaluate", "--checkpointing_steps", "100"]


def tiny_dualview():
    torch.manual_seed(0)
    config = dualview.DualViewConfig(backbone="r3d_tiny", num_frames=4, image_size=24, broad_num_frames=8, broad_image_size=12)
    return dualview.DualViewForPreTraining(config), dualview.DualViewVideoProcessor.from_model_config(config)


def test_a_processor_makes_named_views_of_their_own_shapes_and_collate_stacks_them_by_name(numbered_mp4):
    _, processor = tiny_dualview()
    with VideoReader(numbered_mp4) as reader:
        views = processor.pretraining_views(reader, np.random.default_rng(0))
    assert {name: tuple(v.shape) for name, v in views.items()} == {
        "pixel_values_videos": (4, 3, 24, 24),
        "broad_pixel_values_videos": (8, 3, 12, 12),
    }
    batch = collate_pretraining([{"views": views, "video_id": 1, "skipped": []}] * 3)
    assert batch["pixel_values_videos"].shape == (3, 4, 3, 24, 24)
    assert batch["broad_pixel_values_videos"].shape == (3, 8, 3, 12, 12)
    frames = torch.randint(0, 255, (30, 3, 40, 48), dtype=torch.uint8)  # decoded frames take the same path
    batch = processor.preprocess_pretraining([frames, frames.permute(0, 2, 3, 1)], rng=np.random.default_rng(0))
    assert batch["broad_pixel_values_videos"].shape == (2, 8, 3, 12, 12)


def test_a_method_defined_in_the_tests_pretrains_through_pretrain_py(synthmotion_dir, tmp_path):
    model, processor = tiny_dualview()
    start = tmp_path / "start"
    model.save_pretrained(start)
    processor.save_pretrained(start)
    out = tmp_path / "run"
    argv = [*RUN, "--model", str(start), "--dataset", synthmotion_dir, "--max_steps", "3",
            "--gradient_accumulation_steps", "2", "--output_dir", str(out)]  # fmt: skip
    summary = run_in_process(argv)
    assert summary["steps"] == 3
    state = load_file(out / "model.safetensors")
    # The hook ran once per optimiser step (3), not once per forward (6), and saw the run's total.
    assert int(state["optimizer_steps"]) == 3 and int(state["last_total_steps"]) == 3
    assert int(state["target.num_updates"]) == 1 + 3  # copied at the first forward, then one update per step
    trained = AutoModelForPreTraining.from_pretrained(out)
    assert not torch.equal(trained.broad.stem.conv.weight, model.broad.stem.conv.weight)
    assert type(AutoVideoProcessor.from_pretrained(out)) is dualview.DualViewVideoProcessor
    assert AutoModel.from_pretrained(out)(torch.randn(1, 4, 3, 24, 24)).pooler_output.shape == (1, 64)
    assert "DualView pre-trained with hfvid" in (out / "README.md").read_text()


def test_momentum_and_queue_work_once_per_optimiser_step_under_gradient_accumulation(synthmotion_dir, tmp_path):
    out = tmp_path / "moco"
    argv = [*RUN, "--model", "moco-r3d18-tiny", "--dataset", synthmotion_dir, "--max_steps", "3",
            "--gradient_accumulation_steps", "2", "--output_dir", str(out)]  # fmt: skip
    run_in_process(argv)
    state = load_file(out / "model.safetensors")
    assert int(state["key_encoder.num_updates"]) == 1 + 3  # one EMA update per optimiser step
    assert int(state["queue.length"]) == 3 * 2 * 2  # every micro-batch's keys, pushed at its step's end
    assert len(set(state["queue.video_ids"][:12].tolist())) > 1  # video ids reached the method that names them
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in logged] == [1, 2, 3]


def test_trainer_with_the_callback_calls_the_hook_once_per_optimiser_step(tmp_path):
    config = get_config("byol-r3d18-tiny")
    model = AutoModelForPreTraining.from_config(config)
    generator = torch.Generator().manual_seed(0)
    videos = [{"pixel_values_videos": torch.randn(2, config.num_frames, 3, 32, 32, generator=generator)} for _ in range(8)]
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=3, per_device_train_batch_size=2, gradient_accumulation_steps=2,
                             report_to=[], use_cpu=True, save_strategy="no", logging_strategy="no")  # fmt: skip
    Trainer(model=model, args=args, train_dataset=videos, callbacks=[AfterOptimizerStepCallback()]).train()
    assert int(model.target_encoder.num_updates) == 1 + 3


def test_a_backbone_checkpoint_loads_for_pretraining_with_a_fresh_queue_and_momentum_encoder(tmp_path):
    """Missing weights are initialised by `_init_weights`, buffers included: an empty queue, a never-updated key
    encoder (copied from the loaded backbone at the first training forward), BatchNorm statistics reset."""
    config = get_config("moco-r3d18-tiny")
    AutoModel.from_config(config).save_pretrained(tmp_path)
    for _ in range(3):
        model = AutoModelForPreTraining.from_pretrained(tmp_path).train()
        assert int(model.queue.length) == 0 and int(model.queue.pointer) == 0
        assert int(model.key_encoder.num_updates) == 0
        assert torch.equal(model.queue.video_ids, torch.full_like(model.queue.video_ids, -1))
        projector_norm = model.projector[1]
        assert torch.equal(projector_norm.running_var, torch.ones_like(projector_norm.running_var))
        clips = torch.randn(4, 2, config.num_frames, 3, 32, 32)
        output = model(pixel_values_videos=clips, video_ids=torch.arange(4))
        model.after_optimizer_step(1)
        second = model(pixel_values_videos=clips, video_ids=torch.arange(4))
        assert torch.isfinite(output.loss) and torch.isfinite(second.loss) and int(model.queue.length) == 4
        key_backbone = model.key_encoder["backbone"].state_dict()
        assert all(torch.equal(v, key_backbone[k]) for k, v in model.moco.backbone.state_dict().items() if "num_batches" not in k and "running" not in k)
