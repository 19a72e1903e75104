"""V-JEPA pre-training of transformers' own V-JEPA 2 encoder and predictor: config validation, the clip and
multi-block target masks the processor takes from a real mp4, the loss and gradients against a hand-written
computation of the objective, the context encoder never seeing target tokens, the EMA target and its schedule,
learning on a fixed batch, and a pre-training run whose folder transformers loads without hfvid (the processor's
transformers common tests: test_transformers_common.py)."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import frame_index_of, run_in_process
from huggingface_hub.errors import StrictDataclassClassValidationError
from transformers import VJEPA2Config, VJEPA2Model
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

import hfvid
from hfvid.data.decoding import VideoReader
from hfvid.models.vjepa import VJEPAForPreTraining, VJEPAPreTrainingConfig, VJEPAPreTrainingVideoProcessor
from hfvid.models.vjepa.modeling_vjepa import kept_indices
from hfvid.presets import load_for_pretraining, processor_for_config

TINY = "vjepa-vit-tiny"


def test_presets_and_config_validation():
    assert {TINY, "vjepa-vit-b", "vjepa-vit-l"} <= set(hfvid.list_configs())
    config = hfvid.get_config(TINY)
    assert isinstance(config, VJEPA2Config) and config.model_type == "vjepa2"
    assert config.token_grid == (4, 4, 4) and (config.num_frames, config.image_size) == (8, 32)
    assert config.target_mask_blocks == {"short_range": (8, 0.15), "long_range": (2, 0.7)}
    assert hfvid.get_config(TINY, image_size=64).crop_size == 64  # hfvid's names of crop_size / frames_per_clip
    with pytest.raises(StrictDataclassClassValidationError, match="long_range_scale must be in"):
        VJEPAPreTrainingConfig(long_range_scale=1.5)
    with pytest.raises(StrictDataclassClassValidationError, match="ema_momentum <= ema_momentum_end"):
        VJEPAPreTrainingConfig(ema_momentum=0.999, ema_momentum_end=0.99)
    with pytest.raises(StrictDataclassClassValidationError, match="multiple of tubelet_size"):
        VJEPAPreTrainingConfig(frames_per_clip=15)


def test_processor_takes_a_clip_and_two_multiblock_target_masks_from_a_real_mp4(numbered_mp4):
    processor = processor_for_config(hfvid.get_config(TINY))
    assert isinstance(processor, VJEPAPreTrainingVideoProcessor) and processor.token_grid == (4, 4, 4)
    batches = []
    for seed in (0, 0, 1):
        with VideoReader(numbered_mp4) as reader:
            batches.append(processor.preprocess_pretraining([reader] * 3, rng=np.random.default_rng(seed)))
    batch = batches[0]
    assert batch["pixel_values_videos"].shape == (3, 8, 3, 32, 32) and batch["target_masks"].shape == (3, 2, 64)
    mean = torch.tensor(IMAGENET_DEFAULT_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_DEFAULT_STD).view(1, 3, 1, 1)
    frames = frame_index_of((batch["pixel_values_videos"][0] * std + mean) * 255)
    assert np.array_equal(np.diff(frames), np.ones(7)), frames
    for masks in batch["target_masks"]:
        for mask in masks:
            steps = mask.view(4, 16)
            assert (steps == steps[0]).all()  # every block spans all time steps
            assert 0 < steps[0].sum() < 16  # some target, some context
    # The long-range mask (2 blocks of 0.7 of the frame) covers more than the short-range one (8 of 0.15), on average.
    share = torch.cat([b["target_masks"].float() for b in batches]).mean(dim=(0, 2))
    assert share[1] > share[0], share
    assert torch.equal(batches[0]["target_masks"], batches[1]["target_masks"])
    assert not torch.equal(batches[0]["target_masks"], batches[2]["target_masks"])
    assert list(processor(numbered_mp4, return_tensors="pt")) == ["pixel_values_videos"]


def test_kept_indices_cut_every_row_to_the_smallest_count():
    mask = torch.tensor([[1, 0, 1, 1, 0], [0, 1, 0, 1, 0]], dtype=torch.bool)
    assert kept_indices(mask).tolist() == [[0, 2], [1, 3]]
    with pytest.raises(ValueError, match="keeps no token"):
        kept_indices(torch.tensor([[1, 0], [0, 0]], dtype=torch.bool))


def equal_count_masks(batch: int, generator: torch.Generator) -> torch.Tensor:
    """(batch, 2, 64) target masks keeping 24 and 40 tokens in every video, so no row is cut."""
    masks = torch.zeros(batch, 2, 64, dtype=torch.bool)
    for video in range(batch):
        for index, count in enumerate((24, 40)):
            masks[video, index, torch.randperm(64, generator=generator)[:count]] = True
    return masks


def reference_loss(model: VJEPAForPreTraining, pixel_values_videos: torch.Tensor, target_masks: torch.Tensor) -> torch.Tensor:
    """V-JEPA's objective written out video by video and mask by mask with boolean selection: the context encoder's
    blocks on the context tokens (the mask's complement) at their positions, the predictor on them, and the L1
    distance to the target encoder's layer-normed tokens of the whole clip at the masked positions."""
    losses = []
    for index in range(target_masks.shape[1]):
        per_video = []
        for video, masks in zip(pixel_values_videos, target_masks):
            target_mask = masks[index]
            positions = torch.arange(64)
            with torch.no_grad():
                tokens = VJEPA2Model.forward(model.vjepa2, video[None], skip_predictor=True).last_hidden_state[0]
                targets = F.layer_norm(tokens, (tokens.shape[-1],))[target_mask]
            context = model.context_encoder.embeddings(video[None])[0][~target_mask][None]
            for layer in model.context_encoder.layer:
                context = layer(context, position_mask=positions[~target_mask][None])[0]
            context = model.context_encoder.layernorm(context)
            full = torch.zeros(1, 64, context.shape[-1])
            full[0, ~target_mask] = context[0]
            predicted = model.vjepa2.predictor(
                full, context_mask=[positions[~target_mask][None]], target_mask=[positions[target_mask][None]]
            ).last_hidden_state[0]
            per_video.append((predicted - targets).abs())
        losses.append(torch.stack(per_video).mean())
    return torch.stack(losses).mean()


def test_loss_and_gradients_equal_a_hand_written_objective():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = VJEPAForPreTraining(config).train()
    model._start_target_encoder()
    with torch.no_grad():  # a target encoder that differs from the context encoder, as after some EMA steps
        for parameter in model.vjepa2.encoder.parameters():
            parameter.add_(0.01 * torch.randn_like(parameter))
    generator = torch.Generator().manual_seed(0)
    pixel_values_videos = torch.randn(2, 8, 3, 32, 32, generator=generator)
    target_masks = equal_count_masks(2, generator)

    output = model(pixel_values_videos=pixel_values_videos, target_masks=target_masks)
    output.loss.backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    expected = reference_loss(model, pixel_values_videos, target_masks)
    expected.backward()
    torch.testing.assert_close(output.loss, expected, rtol=1e-5, atol=1e-5)
    assert grads and not any(name.startswith("vjepa2.encoder.") for name in grads)  # no gradient into the target
    assert grads.keys() == {name for name, p in model.named_parameters() if p.grad is not None}
    for name, p in model.named_parameters():
        if name in grads:
            torch.testing.assert_close(grads[name], p.grad, rtol=1e-5, atol=1e-5, msg=name)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_gradient_checkpointing_gives_the_same_loss_and_gradients(use_reentrant):
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = VJEPAForPreTraining(config).train()
    batch = {"pixel_values_videos": torch.randn(2, 8, 3, 32, 32), "target_masks": equal_count_masks(2, torch.Generator().manual_seed(0))}
    runs = []
    for checkpointing in (False, True):
        if checkpointing:
            model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": use_reentrant})
        model.zero_grad()
        loss = model(**batch).loss
        loss.backward()
        runs.append((loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}))
    torch.testing.assert_close(runs[0][0], runs[1][0])
    assert runs[0][1].keys() == runs[1][1].keys()
    for name, grad in runs[0][1].items():
        torch.testing.assert_close(grad, runs[1][1][name], msg=name)


def test_the_context_encoder_never_sees_the_target_tokens():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = VJEPAForPreTraining(config).eval()
    generator = torch.Generator().manual_seed(1)
    clips = torch.randn(2, 8, 3, 32, 32, generator=generator)
    masks = equal_count_masks(2, generator)
    changed = clips.clone()
    for video in range(2):  # new pixels in every tubelet of the short-range mask's targets
        for token in masks[video, 0].nonzero().flatten().tolist():
            t, row, column = token // 16, token % 16 // 4, token % 4
            changed[video, 2 * t : 2 * t + 2, :, 8 * row : 8 * row + 8, 8 * column : 8 * column + 8] = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        before, after = model(clips, masks), model(changed, masks)
    torch.testing.assert_close(before.predictions["short_range"], after.predictions["short_range"])
    assert not torch.allclose(before.predictions["long_range"], after.predictions["long_range"])
    assert before.losses["short_range"] != after.losses["short_range"]  # the targets did change


def test_target_encoder_starts_as_a_copy_and_follows_by_ema():
    config = hfvid.get_config(TINY, ema_momentum=0.9, ema_momentum_end=1.0)
    torch.manual_seed(0)
    model = VJEPAForPreTraining(config).train()
    target, online = model.vjepa2.encoder, model.context_encoder
    assert not torch.equal(target.layer[0].mlp.fc1.weight, online.layer[0].mlp.fc1.weight)
    batch = {"pixel_values_videos": torch.randn(2, 8, 3, 32, 32), "target_masks": equal_count_masks(2, torch.Generator().manual_seed(0))}
    model(**batch).loss.backward()
    assert bool(model.ema_started) and torch.equal(target.layer[0].mlp.fc1.weight, online.layer[0].mlp.fc1.weight)
    assert all(not p.requires_grad for p in target.parameters())
    with torch.no_grad():
        old_target = target.layer[0].mlp.fc1.weight.clone()
        online.layer[0].mlp.fc1.weight.add_(1.0)
    model.after_optimizer_step(step=5, total_steps=10)  # momentum 0.95 halfway from 0.9 to 1.0
    torch.testing.assert_close(target.layer[0].mlp.fc1.weight, old_target + 0.05)
    model.after_optimizer_step(step=10, total_steps=10)  # momentum 1.0: the target stays
    torch.testing.assert_close(target.layer[0].mlp.fc1.weight, old_target + 0.05)


def test_prediction_loss_goes_down_on_a_fixed_batch(numbered_mp4):
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = VJEPAForPreTraining(config).train()
    with VideoReader(numbered_mp4) as reader:
        batch = dict(processor_for_config(config).preprocess_pretraining([reader] * 4, rng=np.random.default_rng(0)))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    losses = []
    for step in range(30):
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.after_optimizer_step(step + 1, 30)
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5]), losses


LOAD_WITHOUT_HFVID = """
import json, sys
sys.modules["hfvid"] = None  # any import of hfvid fails
import torch
from transformers import AutoModel, AutoVideoProcessor, VJEPA2ForVideoClassification
folder = sys.argv[1]
model, processor = AutoModel.from_pretrained(folder), AutoVideoProcessor.from_pretrained(folder)
classifier = VJEPA2ForVideoClassification.from_pretrained(folder, num_labels=3)
inputs = processor(list(torch.randint(0, 256, (2, 8, 3, 40, 48), dtype=torch.uint8)), return_tensors="pt")
with torch.no_grad():
    tokens = model(**inputs, skip_predictor=True).last_hidden_state
    print(json.dumps({"model": type(model).__name__, "processor": type(processor).__name__, "tokens": list(tokens.shape),
                      "logits": list(classifier(**inputs).logits.shape),
                      "encoder": float(sum(p.double().sum() for p in model.encoder.parameters()))}))
"""


def test_pretraining_run_saves_a_plain_transformers_vjepa2_folder(synthmotion_dir, tmp_path):
    out = tmp_path / "vjepa"
    argv = ["--model", TINY, "--dataset", synthmotion_dir, "--batch_size", "8", "--max_steps", "6",
            "--warmup_steps", "1", "--logging_steps", "2", "--checkpointing_steps", "6", "--eval_protocols", "knn,linear,attentive",
            "--output_dir", str(out)]  # fmt: skip
    summary = run_in_process(argv)
    assert summary["steps"] == 6 and summary["num_skipped_videos"] == 0
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "vjepa2" and "auto_map" not in config and not list(out.glob("*.py"))
    assert json.loads((out / "video_preprocessor_config.json").read_text())["video_processor_type"] == "VJEPA2VideoProcessor"
    assert {"knn_top1", "linear_top1", "attentive_top1"} <= set(json.loads((out / "results.json").read_text())["metrics"])
    card = (out / "README.md").read_text()
    assert "library_name: transformers" in card and "VJEPA2Model.from_pretrained" in card and "| frames per clip | 8 |" in card

    loaded = subprocess.run([sys.executable, "-c", LOAD_WITHOUT_HFVID, str(out)], capture_output=True, text=True, check=True)
    facts = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert facts["model"] == "VJEPA2Model" and facts["processor"] == "VJEPA2VideoProcessor"
    assert facts["tokens"] == [2, 64, 64] and facts["logits"] == [2, 3]

    model, processor = load_for_pretraining(str(out))  # continuing pre-training from the folder
    assert type(model) is VJEPAForPreTraining and type(processor) is VJEPAPreTrainingVideoProcessor
    assert bool(model.ema_started)
    with torch.no_grad():  # the saved vjepa2 encoder is the EMA target encoder, not the context encoder
        target = float(sum(p.double().sum() for p in model.vjepa2.encoder.parameters()))
        online = float(sum(p.double().sum() for p in model.context_encoder.parameters()))
    assert facts["encoder"] == pytest.approx(target) and facts["encoder"] != pytest.approx(online)
