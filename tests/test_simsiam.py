"""SimSiam: config, loss and stop-gradient, learning, Auto classes, video processor and model card."""

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
from hfvid.models.simsiam import (
    SimSiamConfig,
    SimSiamForPreTraining,
    SimSiamForVideoClassification,
    SimSiamModel,
    SimSiamVideoProcessor,
)
from hfvid.presets import processor_for_config

TINY = "simsiam-r3d18-tiny"


def two_views(config, batch=4, seed=0, noise=1.0):
    """(batch, 2, T, C, H, W): two noisy copies of one random clip per video."""
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, 1, config.num_frames, 3, config.image_size, config.image_size)
    clips = torch.randn(shape, generator=generator)
    return clips + noise * torch.randn((batch, 2, *shape[2:]), generator=generator)


def test_presets_and_config_validation():
    assert {"simsiam-r3d18", "simsiam-r2plus1d18", TINY} <= set(hfvid.list_configs())
    config = hfvid.get_config("simsiam-r2plus1d18")
    assert (config.projection_dim, config.projection_hidden_dim, config.predictor_hidden_dim) == (2048, 2048, 512)
    tiny = hfvid.get_config(TINY)
    assert (tiny.projection_dim, tiny.projection_hidden_dim, tiny.predictor_hidden_dim) == (64, 128, 16)
    # The predictor's bottleneck follows projection_dim unless given.
    assert SimSiamConfig(projection_dim=256).predictor_hidden_dim == 64
    assert SimSiamConfig(projection_dim=256, predictor_hidden_dim=100).predictor_hidden_dim == 100
    with pytest.raises(ValueError, match="two views per video"):
        SimSiamConfig(clips_per_video=1)


def test_loss_is_symmetric_negative_cosine_of_predictions_and_projections():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = SimSiamForPreTraining(config)
    output = model(pixel_values_videos=two_views(config, batch=3))
    p, z = output.predictions, output.embeddings
    assert p.shape == z.shape == (3, 2, 64) and output.pooler_output.shape == (3, 2, 64)
    expected = -0.5 * ((p[:, 0] * z[:, 1]).sum(1).mean() + (p[:, 1] * z[:, 0]).sum(1).mean())
    assert output.loss.item() == pytest.approx(expected.item(), rel=1e-5, abs=1e-7)
    assert model.projector[-1].weight is None  # the projector ends in an affine-free BatchNorm
    output.loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_no_gradient_flows_through_the_target_branch():
    """The projections z reach the loss twice: through the predictor (p = h(z)) and as the other view's
    target. The gradient at z must be exactly the one through the predictor."""
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = SimSiamForPreTraining(config)
    captured = {}
    model.projector.register_forward_hook(lambda module, args, out: captured.__setitem__("z", out))
    model.predictor.register_forward_hook(lambda module, args, out: captured.__setitem__("p", out))
    loss = model(pixel_values_videos=two_views(config)).loss
    z, p = captured["z"], captured["p"]
    grad_z, grad_p = torch.autograd.grad(loss, [z, p], retain_graph=True)
    (through_predictor,) = torch.autograd.grad(p, z, grad_outputs=grad_p, retain_graph=True)
    torch.testing.assert_close(grad_z, through_predictor, rtol=0, atol=0)
    # Without the stop-gradient the target side would add to it: the check above can tell the difference.
    cos = torch.nn.functional.cosine_similarity
    p_a, p_b, z_a, z_b = *p.split(4), *z.split(4)
    no_stop = -0.5 * (cos(p_a, z_b).mean() + cos(p_b, z_a).mean())
    (grad_z_no_stop,) = torch.autograd.grad(no_stop, z)
    assert (grad_z_no_stop - through_predictor).abs().max() > 1e-4


def test_a_few_steps_on_a_fixed_batch_lower_the_loss():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = SimSiamForPreTraining(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    videos = two_views(config)
    losses = []
    for _ in range(6):
        output = model(pixel_values_videos=videos)
        optimizer.zero_grad()
        output.loss.backward()
        optimizer.step()
        losses.append(output.loss.item())
    assert losses[-1] < losses[0] - 0.3, losses


def test_save_and_auto_classes_round_trip(tmp_path):
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = SimSiamForPreTraining(config).eval()
    model.save_pretrained(tmp_path)
    processor_for_config(config).save_pretrained(tmp_path)
    assert isinstance(AutoConfig.from_pretrained(tmp_path), SimSiamConfig)
    assert json.loads((tmp_path / "config.json").read_text())["predictor_hidden_dim"] == 16

    videos = two_views(config, batch=2)
    reloaded = AutoModelForPreTraining.from_pretrained(tmp_path).eval()
    assert isinstance(reloaded, SimSiamForPreTraining)
    assert torch.equal(reloaded(pixel_values_videos=videos).loss, model(pixel_values_videos=videos).loss)

    backbone, info = AutoModel.from_pretrained(tmp_path, output_loading_info=True)
    assert isinstance(backbone, SimSiamModel)
    assert not info["missing_keys"] and not info["unexpected_keys"]  # projector and predictor are ignored quietly
    features = backbone.eval()(pixel_values_videos=videos[:, 0]).pooler_output
    assert torch.equal(features, model.simsiam(pixel_values_videos=videos[:, 0]).pooler_output)

    classifier, info = AutoModelForVideoClassification.from_pretrained(tmp_path, num_labels=3, output_loading_info=True)
    assert isinstance(classifier, SimSiamForVideoClassification) and classifier.config.num_labels == 3
    assert sorted(info["missing_keys"]) == ["classifier.bias", "classifier.weight"] and not info["unexpected_keys"]

    processor = AutoVideoProcessor.from_pretrained(tmp_path)
    assert isinstance(processor, SimSiamVideoProcessor)
    assert (processor.num_frames, processor.crop_size.height, processor.clips_per_video) == (8, 32, 2)


def test_processor_gives_two_augmented_clips_of_a_real_mp4(numbered_mp4):
    processor = processor_for_config(hfvid.get_config(TINY))
    with VideoReader(numbered_mp4) as reader:
        clips = processor.preprocess_pretraining([reader], rng=np.random.default_rng(0))["pixel_values_videos"]
    assert clips.shape == (1, 2, 8, 3, 32, 32) and torch.isfinite(clips).all()
    assert not torch.equal(clips[0, 0], clips[0, 1])


def test_model_card_describes_the_method(tmp_path):
    """The template renders from the saved config (full pretrain.py runs: test_contrastive_pretraining.py)."""
    SimSiamForPreTraining(hfvid.get_config(TINY)).save_pretrained(tmp_path)
    run_info = {"dataset": "synthmotion", "steps": 4, "batch_size_per_process": 4, "seed": 0, "device": "cpu"}
    card = write_model_card(tmp_path, run_info).read_text()
    assert "SimSiam pre-trained with hfvid" in card and "16 hidden units" in card and "chen2021simsiam" in card
    assert "hfvid's choices" in card and "{%" not in card and "{{" not in card
