"""VideoMAE pre-training of transformers' own `VideoMAEForPreTraining`: config validation, the clip and tube mask
the processor takes from a real mp4, the loss and gradients against a hand-written reconstruction objective,
learning on a fixed batch, and a pre-training run through training/pretrain.py whose folder transformers loads
without hfvid (the processor's transformers common tests: test_transformers_common.py)."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import frame_index_of, run_in_process
from huggingface_hub.errors import StrictDataclassClassValidationError
from transformers import VideoMAEConfig, VideoMAEForPreTraining, VideoMAEModel
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

import hfvid
from hfvid.data.decoding import VideoReader
from hfvid.models.videomae import VideoMAEPreTrainingConfig, VideoMAEPreTrainingVideoProcessor
from hfvid.presets import load_for_pretraining, processor_for_config

TINY = "videomae-vit-tiny"


def test_presets_and_config_validation():
    assert {TINY, "videomae-vit-s", "videomae-vit-b"} <= set(hfvid.list_configs())
    config = hfvid.get_config(TINY)
    assert isinstance(config, VideoMAEConfig) and config.model_type == "videomae"
    assert config.token_grid == (4, 4, 4) and config.mask_ratio == 0.75
    assert hfvid.get_config("videomae-vit-b").token_grid == (8, 14, 14)
    # transformers' strict configs raise huggingface_hub's validation error, naming the validator's ValueError.
    with pytest.raises(StrictDataclassClassValidationError, match="mask_ratio must be in"):
        VideoMAEPreTrainingConfig(mask_ratio=1.0)
    with pytest.raises(StrictDataclassClassValidationError, match="masking must be one of"):
        VideoMAEPreTrainingConfig(masking="block")
    with pytest.raises(StrictDataclassClassValidationError, match="multiple of tubelet_size"):
        VideoMAEPreTrainingConfig(num_frames=15)
    with pytest.raises(ValueError, match="has no field 'mask_raito'"):
        hfvid.get_config(TINY, mask_raito=0.5)


def unnormalise(pixel_values: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(IMAGENET_DEFAULT_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_DEFAULT_STD).view(1, 3, 1, 1)
    return (pixel_values * std + mean) * 255


@pytest.mark.parametrize("masking", ["tube", "random"])
def test_processor_takes_a_strided_clip_and_its_mask_from_a_real_mp4(numbered_mp4, masking):
    config = hfvid.get_config(TINY, masking=masking)
    processor = VideoMAEPreTrainingVideoProcessor.from_model_config(config, frame_stride=2)
    assert (processor.mask_ratio, processor.masking, processor.token_grid) == (0.75, masking, (4, 4, 4))
    batches = []
    for seed in (0, 0, 1):
        with VideoReader(numbered_mp4) as reader:
            batches.append(processor.preprocess_pretraining([reader, reader], rng=np.random.default_rng(seed)))
    batch = batches[0]
    assert batch["pixel_values"].shape == (2, 8, 3, 32, 32) and batch["bool_masked_pos"].shape == (2, 64)
    assert batch["bool_masked_pos"].dtype == torch.bool
    frames = frame_index_of(unnormalise(batch["pixel_values"][0]))
    assert np.array_equal(np.diff(frames), np.full(7, 2)), frames
    for mask in batch["bool_masked_pos"]:
        assert mask.sum() == 48  # 0.75 of 64 tokens, exactly
        if masking == "tube":  # the same 12 of the 16 spatial positions at each of the 4 time steps
            steps = mask.view(4, 16)
            assert (steps == steps[0]).all() and steps[0].sum() == 12
        else:
            assert not (mask.view(4, 16) == mask.view(4, 16)[0]).all()
    assert torch.equal(batches[0]["bool_masked_pos"], batches[1]["bool_masked_pos"])  # same seed, same masks
    assert not torch.equal(batches[0]["bool_masked_pos"], batches[2]["bool_masked_pos"])
    evaluation = processor(numbered_mp4, return_tensors="pt")
    assert list(evaluation) == ["pixel_values"] and evaluation["pixel_values"].shape == (1, 8, 3, 32, 32)


def reference_loss(pixel_values, predictions, mask, tubelet: int, patch: int, norm_pix: bool) -> torch.Tensor:
    """VideoMAE's objective written out token by token: the mean squared error between the predictions and the
    masked tubelets' pixels (in [0, 1]; with ``norm_pix``, each tubelet's channels normalised by their own mean and
    unbiased standard deviation, + 1e-6), each tubelet flattened as (time, row, column, channel)."""
    mean = torch.tensor(IMAGENET_DEFAULT_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_DEFAULT_STD).view(1, 3, 1, 1)
    targets = []
    for video, video_mask in zip(pixel_values, mask):
        frames = video * std + mean
        tokens = []
        for t in range(0, frames.shape[0], tubelet):
            for row in range(0, frames.shape[2], patch):
                for column in range(0, frames.shape[3], patch):
                    block = frames[t : t + tubelet, :, row : row + patch, column : column + patch]
                    block = block.permute(0, 2, 3, 1).reshape(-1, 3)  # (time * row * column, channel)
                    if norm_pix:
                        block = (block - block.mean(dim=0)) / (block.std(dim=0) + 1e-6)
                    tokens.append(block.reshape(-1))
        targets.append(torch.stack(tokens)[video_mask])
    return ((predictions - torch.stack(targets)) ** 2).mean()


@pytest.mark.parametrize("norm_pix_loss", [True, False])
def test_loss_and_gradients_equal_a_hand_written_reconstruction_objective(norm_pix_loss):
    config = hfvid.get_config(TINY, norm_pix_loss=norm_pix_loss)
    torch.manual_seed(0)
    model = VideoMAEForPreTraining(config)
    processor = processor_for_config(config)
    pixel_values = torch.randn(2, 8, 3, 32, 32)
    rng = np.random.default_rng(0)
    mask = torch.stack([torch.from_numpy(processor.pretraining_views(torch.zeros(8, 3, 32, 32, dtype=torch.uint8), rng)["bool_masked_pos"].numpy()) for _ in range(2)])

    output = model(pixel_values=pixel_values, bool_masked_pos=mask)
    output.loss.backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    predictions = model(pixel_values=pixel_values, bool_masked_pos=mask).logits
    expected = reference_loss(pixel_values, predictions, mask, config.tubelet_size, config.patch_size, norm_pix_loss)
    expected.backward()
    assert predictions.shape == (2, 48, 2 * 8 * 8 * 3)
    torch.testing.assert_close(output.loss, expected, rtol=1e-5, atol=1e-5)
    assert grads.keys() == {name for name, p in model.named_parameters() if p.grad is not None}
    for name, p in model.named_parameters():
        if name in grads:
            torch.testing.assert_close(grads[name], p.grad, rtol=1e-5, atol=1e-5, msg=name)


def test_reconstruction_loss_goes_down_on_a_fixed_batch(numbered_mp4):
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = VideoMAEForPreTraining(config).train()
    with VideoReader(numbered_mp4) as reader:
        batch = dict(processor_for_config(config).preprocess_pretraining([reader] * 4, rng=np.random.default_rng(0)))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5]), losses


LOAD_WITHOUT_HFVID = """
import json, sys
sys.modules["hfvid"] = None  # any import of hfvid fails
import torch
from transformers import AutoModel, AutoVideoProcessor, VideoMAEForVideoClassification, VideoMAEModel
folder = sys.argv[1]
model, processor = AutoModel.from_pretrained(folder), AutoVideoProcessor.from_pretrained(folder)
classifier = VideoMAEForVideoClassification.from_pretrained(folder, num_labels=3)
inputs = processor(list(torch.randint(0, 256, (2, 8, 3, 40, 48), dtype=torch.uint8)), return_tensors="pt")
print(json.dumps({"model": type(model).__name__, "processor": type(processor).__name__,
                  "tokens": list(model(**inputs).last_hidden_state.shape), "logits": list(classifier(**inputs).logits.shape),
                  "encoder": float(sum(p.double().sum() for p in VideoMAEModel.from_pretrained(folder).parameters()))}))
"""


def test_pretraining_run_saves_a_plain_transformers_videomae_folder(synthmotion_dir, tmp_path):
    out = tmp_path / "videomae"
    argv = ["--model", TINY, "--dataset", synthmotion_dir, "--batch_size", "8", "--max_steps", "6",
            "--warmup_steps", "1", "--logging_steps", "2", "--checkpointing_steps", "6", "--eval_protocols", "knn,linear,attentive",
            "--output_dir", str(out)]  # fmt: skip
    summary = run_in_process(argv)
    assert summary["steps"] == 6 and summary["num_skipped_videos"] == 0
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "videomae" and config["architectures"] == ["VideoMAEForPreTraining"]
    assert "auto_map" not in config and config["mask_ratio"] == 0.75
    assert not list(out.glob("*.py"))  # no hfvid code in the folder
    processor_config = json.loads((out / "video_preprocessor_config.json").read_text())
    assert processor_config["video_processor_type"] == "VideoMAEVideoProcessor"
    results = json.loads((out / "results.json").read_text())
    assert {"knn_top1", "linear_top1", "attentive_top1"} <= set(results["metrics"])  # the evaluation pooled VideoMAE's tokens
    card = (out / "README.md").read_text()
    assert "library_name: transformers" in card and "VideoMAEModel.from_pretrained" in card and "tube masking" in card

    loaded = subprocess.run([sys.executable, "-c", LOAD_WITHOUT_HFVID, str(out)], capture_output=True, text=True, check=True)
    facts = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert facts["model"] == "VideoMAEModel" and facts["processor"] == "VideoMAEVideoProcessor"
    assert facts["tokens"] == [2, 64, 64] and facts["logits"] == [2, 3]
    saved = VideoMAEModel.from_pretrained(out)
    with torch.no_grad():
        assert facts["encoder"] == pytest.approx(float(sum(p.double().sum() for p in saved.parameters())))

    model, processor = load_for_pretraining(str(out))  # continuing pre-training from the folder
    assert type(model) is VideoMAEForPreTraining and type(processor) is VideoMAEPreTrainingVideoProcessor
    assert (processor.mask_ratio, processor.masking, processor.token_grid) == (0.75, "tube", (4, 4, 4))
