"""E-SSL's equivariance term as an option of every embedding method (MoCo, SimCLR, BYOL, SimSiam, RINCE, BFP,
LSFD, HDC; BraVe's: test_brave.py): the settings, the extra clips the processors take from a real mp4, the term
against a hand computation, saving and loading, and pre-training through training/pretrain.py with it."""

import json

import numpy as np
import pytest
import torch
from conftest import frame_index_of, multi_view_clips, run_in_process, training_losses
from transformers import AutoModel, AutoModelForPreTraining, AutoVideoProcessor

import hfvid
from hfvid.data.decoding import VideoReader
from hfvid.losses.ranking import transformation_cross_entropy, transformation_ranking_loss
from hfvid.models.configuration_utils import equivariance_settings
from hfvid.presets import processor_for_config

PRESETS = ["moco-r3d18-tiny", "simclr-r3d18-tiny", "byol-r3d18-tiny", "simsiam-r3d18-tiny", "rince-r3d18-tiny", "bfp-r3d18-tiny",
           "lsfd-r3d18-tiny", "hdc-r3d18-tiny"]
TEMPORAL = {"transformations": ["1x", "2x", "reverse"]}
NO_AUGMENTATION = {"crop_scale": [1.0, 1.0], "flip_p": 0.0, "color_jitter_p": 0.0, "grayscale_p": 0.0}


def inputs(config, batch: int = 4, seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed + 100)
    num = len(config.equivariance["transformations"])
    values = torch.randn((batch, num, config.num_frames, 3, config.image_size, config.image_size), generator=generator)
    named = {"pixel_values_videos": multi_view_clips(config, batch=batch, seed=seed), "equivariance_values": values}
    if config.model_type in ("moco", "rince"):
        named["video_ids"] = torch.arange(batch)
    return named


def test_settings_are_completed_and_checked():
    assert equivariance_settings(None) is None
    settings = equivariance_settings({"weight": 0.5})
    assert settings == {"transformations": ["1x", "2x", "reverse"], "weight": 0.5, "loss": "rank", "margin": 1.0,
                        "image_size": None, "head_hidden_dim": None}  # fmt: skip
    assert hfvid.get_config("simclr-r3d18-tiny", equivariance={"loss": "cls"}).equivariance["loss"] == "cls"
    for bad, message in [
        ({"lambda": 0.4}, "unknown fields"),
        ({"transformations": ["1x"]}, "2 or more different transformations"),
        ({"transformations": ["1x", "1x"]}, "2 or more different transformations"),
        ({"transformations": ["1x", "sideways"]}, "sideways"),
        ({"loss": "hinge"}, "loss must be one of"),
        ({"weight": -1}, "weight must be >= 0"),
    ]:
        with pytest.raises(ValueError, match=message):
            hfvid.get_config("moco-r3d18-tiny", equivariance=bad)


def test_processor_adds_one_clip_per_transformation_of_a_real_mp4(numbered_mp4):
    equivariance = {"transformations": ["1x", "2x", "reverse", "rot90"], "image_size": 16}
    config = hfvid.get_config("simclr-r3d18-tiny", equivariance=equivariance, augmentation=NO_AUGMENTATION)
    processor = processor_for_config(config)
    with VideoReader(numbered_mp4) as reader:
        batch = processor.preprocess_pretraining([reader], rng=np.random.default_rng(0))
    assert batch["pixel_values_videos"].shape == (1, 2, 8, 3, 32, 32)
    extra = batch["equivariance_values"][0]
    assert extra.shape == (4, 8, 3, 16, 16)
    mean = torch.tensor(processor.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(processor.image_std).view(1, 3, 1, 1)
    one, two, backwards, rotated = (frame_index_of((clip * std + mean) * 255) for clip in extra)
    assert np.array_equal(np.diff(one), np.ones(7)) and np.array_equal(np.diff(two), np.full(7, 2))
    assert np.array_equal(np.diff(backwards), -np.ones(7)) and np.array_equal(np.diff(rotated), np.ones(7))
    # Saved and reloaded, the processor still makes them.
    assert processor_for_config(hfvid.get_config("simclr-r3d18-tiny")).equivariance_transformations is None


@pytest.mark.parametrize("loss", ["rank", "cls"])
def test_the_term_is_the_weighted_transformation_loss_of_its_head(loss):
    config = hfvid.get_config("simclr-r3d18-tiny", equivariance={**TEMPORAL, "loss": loss, "weight": 0.4})
    plain_config = hfvid.get_config("simclr-r3d18-tiny")
    torch.manual_seed(0)
    model = AutoModelForPreTraining.from_config(config)
    plain = AutoModelForPreTraining.from_config(plain_config)
    plain.load_state_dict(model.state_dict(), strict=False)  # the same network, without the head
    named = inputs(config)
    output = model(**named)
    with torch.no_grad():
        base = plain(pixel_values_videos=named["pixel_values_videos"]).loss
        values = named["equivariance_values"]
        scores = model.equivariance_head(model.simclr(values.flatten(0, 1)).pooler_output).view(4, 3, 3)
    term = transformation_ranking_loss(scores, 1.0) if loss == "rank" else transformation_cross_entropy(scores)
    assert output.loss.item() == pytest.approx((base + 0.4 * term).item(), rel=1e-5)
    expected = scores.argmax(dim=1 if loss == "rank" else 2) == torch.arange(3)
    assert output.accuracy["equivariance"].tolist() == expected.float().tolist()
    assert set(output.accuracy) == {"instance", "equivariance"}
    with pytest.raises(ValueError, match="needs equivariance_values"):
        model(pixel_values_videos=named["pixel_values_videos"])
    with pytest.raises(ValueError, match="no equivariance term"):
        plain(**named)


@pytest.mark.parametrize("preset", PRESETS)
def test_every_embedding_method_takes_the_term_and_learns_it(preset, tmp_path):
    config = hfvid.get_config(preset, equivariance=TEMPORAL)
    torch.manual_seed(0)
    model = AutoModelForPreTraining.from_config(config)
    named = inputs(config)
    assert "equivariance_values" in model.forward.__code__.co_varnames  # the loop passes what forward names
    model.train()
    before = [(model(**named).accuracy["equivariance"]).mean().item()]
    training_losses(model, 10, **named)
    model.eval().save_pretrained(tmp_path)
    reloaded, info = AutoModelForPreTraining.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    torch.testing.assert_close(reloaded.eval()(**named).loss, model(**named).loss)
    model.train()
    assert model(**named).accuracy["equivariance"].mean().item() == 1.0, before  # fitted on the fixed batch
    backbone, info = AutoModel.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["unexpected_keys"] and not info["missing_keys"]  # the head is left out quietly


def test_pretrain_py_passes_the_extra_clips_and_saves_the_option(synthmotion_dir, tmp_path):
    out = tmp_path / "simclr-essl"
    summary = run_in_process(
        ["--model", "simclr-r3d18-tiny", "--config_overrides", "equivariance={transformations: [1x, 2x, reverse], weight: 0.4}",
         "--dataset", synthmotion_dir, "--batch_size", "4", "--max_steps", "3", "--warmup_steps", "1", "--no_evaluate",
         "--output_dir", str(out)]  # fmt: skip
    )
    assert summary["steps"] == 3
    config = json.loads((out / "config.json").read_text())
    assert config["equivariance"]["transformations"] == ["1x", "2x", "reverse"]
    assert AutoVideoProcessor.from_pretrained(out).equivariance_transformations == ["1x", "2x", "reverse"]
    state = AutoModelForPreTraining.from_pretrained(out).state_dict()
    assert state["equivariance_head.3.weight"].shape == (3, 128)
    card = (out / "README.md").read_text()
    assert "E-SSL" in card and "dangovski2022essl" in card
