"""SimCLR: config, NT-Xent forward, learning, Auto classes, video processor and model card."""

import json

import numpy as np
import pytest
import torch
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForPreTraining,
    AutoModelForVideoClassification,
    AutoVideoProcessor,
)

import hfvid
from hfvid.data.decoding import VideoReader
from hfvid.hub.model_card import write_model_card
from hfvid.losses.contrastive import nt_xent_loss
from hfvid.models.simclr import (
    SimCLRConfig,
    SimCLRForPreTraining,
    SimCLRForVideoClassification,
    SimCLRModel,
    SimCLRVideoProcessor,
)
from hfvid.presets import processor_for_config

TINY = "simclr-r3d18-tiny"


def two_views(config, batch=4, seed=0, noise=1.0):
    """(batch, 2, T, C, H, W): two noisy copies of one random clip per video, so the views of a video share
    content (``noise`` scales the difference) and different videos do not."""
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, 1, config.num_frames, 3, config.image_size, config.image_size)
    clips = torch.randn(shape, generator=generator)
    return clips + noise * torch.randn((batch, 2, *shape[2:]), generator=generator)


def test_presets_and_config_validation():
    names = hfvid.list_configs()
    assert {"simclr-r3d18", "simclr-r2plus1d18", TINY} <= set(names)
    config = hfvid.get_config("simclr-r2plus1d18")
    assert config.backbone["arch"] == "r2plus1d" and config.loss_temperature == 0.1
    assert (config.clips_per_video, config.views_per_clip, config.gap_distribution) == (2, 1, "decreasing")
    tiny = hfvid.get_config(TINY)
    assert (tiny.num_frames, tiny.image_size, tiny.projection_hidden_dim, tiny.projection_dim) == (8, 32, 128, 64)
    # Two augmentations of one clip (SimCLR's image setting) is the other valid layout.
    assert SimCLRConfig(clips_per_video=1, views_per_clip=2).views_per_video == 2
    with pytest.raises(ValueError, match="two views per video"):
        SimCLRConfig(clips_per_video=2, views_per_clip=2)
    with pytest.raises(ValueError, match="loss_temperature must be > 0"):
        SimCLRConfig(loss_temperature=0.0)


def test_loss_is_nt_xent_of_the_models_own_projections():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = SimCLRForPreTraining(config)
    videos = two_views(config, batch=3)
    output = model(pixel_values_videos=videos)
    with torch.no_grad():  # BatchNorm on batch statistics, as in the forward: view 0 of every video, then view 1
        pooled = model.simclr(torch.cat([videos[:, 0], videos[:, 1]])).pooler_output
        view_a, view_b = model.projector(pooled).split(3)
    assert output.loss.item() == pytest.approx(nt_xent_loss(view_a, view_b, 0.1).item(), rel=1e-5)
    torch.testing.assert_close(output.embeddings[:, 0], torch.nn.functional.normalize(view_a, dim=1))
    assert output.embeddings.shape == (3, 2, 64) and output.pooler_output.shape == (3, 2, 64)
    # Accuracy: is view b of the same video view a's nearest neighbour among the other 5 embeddings?
    candidates = torch.cat([view_a, view_b])
    similarity = torch.nn.functional.cosine_similarity(view_a[:, None], candidates[None], dim=2)
    similarity[range(3), range(3)] = -2
    assert output.accuracy["instance"].tolist() == (similarity.argmax(dim=1) == torch.arange(3, 6)).float().tolist()
    output.loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    with pytest.raises(ValueError, match="2 clips"):
        model(pixel_values_videos=videos[:, :1])


def test_a_few_steps_on_a_fixed_batch_lower_the_loss():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = SimCLRForPreTraining(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    videos = two_views(config)
    losses = []
    for _ in range(6):
        output = model(pixel_values_videos=videos)
        optimizer.zero_grad()
        output.loss.backward()
        optimizer.step()
        losses.append(output.loss.item())
    assert losses[-1] < losses[0] / 10, losses
    assert output.accuracy["instance"].mean().item() == 1.0


def test_save_and_auto_classes_round_trip(tmp_path):
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = SimCLRForPreTraining(config).eval()
    model.save_pretrained(tmp_path)
    processor_for_config(config).save_pretrained(tmp_path)
    assert isinstance(AutoConfig.from_pretrained(tmp_path), SimCLRConfig)
    assert json.loads((tmp_path / "config.json").read_text())["loss_temperature"] == 0.1

    videos = two_views(config, batch=2)
    reloaded = AutoModelForPreTraining.from_pretrained(tmp_path).eval()
    assert isinstance(reloaded, SimCLRForPreTraining)
    assert torch.equal(reloaded(pixel_values_videos=videos).loss, model(pixel_values_videos=videos).loss)

    backbone, info = AutoModel.from_pretrained(tmp_path, output_loading_info=True)
    assert isinstance(backbone, SimCLRModel)
    assert not info["missing_keys"] and not info["unexpected_keys"]  # the projector is ignored quietly
    features = backbone.eval()(pixel_values_videos=videos[:, 0]).pooler_output
    assert torch.equal(features, model.simclr(pixel_values_videos=videos[:, 0]).pooler_output)

    classifier, info = AutoModelForVideoClassification.from_pretrained(tmp_path, num_labels=3, output_loading_info=True)
    assert isinstance(classifier, SimCLRForVideoClassification) and classifier.config.num_labels == 3
    assert sorted(info["missing_keys"]) == ["classifier.bias", "classifier.weight"] and not info["unexpected_keys"]
    assert classifier(pixel_values_videos=videos[:, 0]).logits.shape == (2, 3)

    processor = AutoVideoProcessor.from_pretrained(tmp_path)
    assert isinstance(processor, SimCLRVideoProcessor)
    assert (processor.num_frames, processor.crop_size.height, processor.clips_per_video) == (8, 32, 2)


def test_processor_gives_two_augmented_clips_of_a_real_mp4(numbered_mp4):
    processor = processor_for_config(hfvid.get_config(TINY))
    with VideoReader(numbered_mp4) as reader:
        clips = processor.preprocess_pretraining([reader], rng=np.random.default_rng(0))["pixel_values_videos"]
    assert clips.shape == (1, 2, 8, 3, 32, 32) and clips.dtype == torch.float32
    assert torch.isfinite(clips).all() and not torch.equal(clips[0, 0], clips[0, 1])
    # Evaluation input: one centre clip.
    with VideoReader(numbered_mp4) as reader:
        video = reader.get_frames(range(reader.metadata.num_frames))
    assert processor(video, return_tensors="pt")["pixel_values_videos"].shape == (1, 8, 3, 32, 32)


def test_model_card_describes_the_method(tmp_path):
    """The template renders from the saved config (full pretrain.py runs: test_contrastive_pretraining.py)."""
    SimCLRForPreTraining(hfvid.get_config(TINY)).save_pretrained(tmp_path)
    run_info = {"dataset": "synthmotion", "steps": 4, "batch_size_per_process": 4, "seed": 0, "device": "cpu"}
    card = write_model_card(tmp_path, run_info).read_text()
    assert "SimCLR pre-trained with hfvid" in card and "NT-Xent, temperature 0.1" in card and "qian2021cvrl" in card
    assert "hfvid's choices" in card and "{%" not in card and "{{" not in card
