"""SimCLR: config, NT-Xent forward, learning (saving, Auto classes, video processor and model card:
test_multiview_methods.py)."""

import pytest
import torch
from conftest import multi_view_clips, training_losses

import hfvid
from hfvid.losses.contrastive import nt_xent_loss
from hfvid.models.simclr import SimCLRConfig, SimCLRForPreTraining

TINY = "simclr-r3d18-tiny"


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
    with pytest.raises(ValueError, match="compares 2 views per video"):
        SimCLRConfig(clips_per_video=2, views_per_clip=2)
    with pytest.raises(ValueError, match="loss_temperature must be > 0"):
        SimCLRConfig(loss_temperature=0.0)


def test_loss_is_nt_xent_of_the_models_own_projections():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = SimCLRForPreTraining(config)
    videos = multi_view_clips(config, batch=3)
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
    videos = multi_view_clips(config)
    losses = training_losses(model, 6, pixel_values_videos=videos)
    output = model(pixel_values_videos=videos)
    assert losses[-1] < losses[0] / 10, losses
    assert output.accuracy["instance"].mean().item() == 1.0
