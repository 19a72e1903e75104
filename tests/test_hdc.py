"""HDC: config validation, the subtasks' losses against a hand computation, the levels, and learning on a fixed
batch (saving, Auto classes, processor on a real mp4 and card: test_multiview_methods.py; DDP:
test_contrastive_ddp.py; pretrain.py: test_contrastive_pretraining.py)."""

import numpy as np
import pytest
import torch
from conftest import frame_index_of, multi_view_clips, training_losses

import hfvid
from hfvid.data.decoding import VideoReader
from hfvid.losses.predictive import feature_prediction_loss
from hfvid.models.hdc import HDCConfig, HDCForPreTraining
from hfvid.presets import processor_for_config

TINY = "hdc-r3d18-tiny"


def test_presets_and_config_validation():
    assert {"hdc-r3d18", "hdc-r2plus1d18", TINY, "hdc-vit-tiny"} <= set(hfvid.list_configs())
    config = hfvid.get_config(TINY)
    assert (config.levels, config.level_weights, config.views_per_video) == ([-2, -1], [0.5, 1.0], 4)
    assert HDCConfig(levels=[-3, -2, -1]).level_weights == [0.5, 0.5, 1.0]
    with pytest.raises(ValueError, match="one weight per level"):
        HDCConfig(levels=[-1], level_weights=[1.0, 1.0])
    with pytest.raises(ValueError, match="2 clips x 2 augmentations"):
        HDCConfig(clips_per_video=3)
    with pytest.raises(ValueError, match="level 7 is not one of the backbone's 5 hidden states"):
        HDCForPreTraining(hfvid.get_config(TINY, levels=[7]))


def subtask_losses_by_hand(spatial: torch.Tensor, temporal: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One level's two losses from its heads' embeddings (4 views: clip A twice, clip B twice; batch; dim): spatial,
    each clip's view finds the other clip's same-augmentation view; temporal, each view finds its clip's other view,
    the other clip's view being the hard negative (temperature 0.1)."""
    a, a2, b, b2 = range(4)
    spatial_loss = sum(feature_prediction_loss(spatial[q], spatial[p], 0.1) for q, p in ((a, b), (b, a), (a2, b2), (b2, a2))) / 4
    temporal_loss = sum(
        feature_prediction_loss(temporal[q], temporal[p], 0.1, 0, temporal[h]) for q, p, h in ((a, a2, b), (a2, a, b2), (b, b2, a), (b2, b, a2))
    ) / 4
    return spatial_loss, temporal_loss


def test_subtasks_by_hand():
    config = hfvid.get_config(TINY, levels=[-1], level_weights=[1.0], spatial_weight=0.5, temporal_weight=2.0)
    torch.manual_seed(0)
    model = HDCForPreTraining(config)
    clips = multi_view_clips(config, batch=3)
    output = model(pixel_values_videos=clips)
    with torch.no_grad():
        # the last stage's map pooled = the backbone's pooled features (one pass over all views, view after view)
        pooled = model.hdc.backbone(clips.transpose(0, 1).flatten(0, 1)).pooler_output
        spatial = model.spatial_heads[0](pooled).view(4, 3, -1)
        temporal = model.temporal_heads[0](pooled).view(4, 3, -1)
    spatial_loss, temporal_loss = subtask_losses_by_hand(spatial, temporal)
    assert output.task_losses["spatial"].item() == pytest.approx(spatial_loss.item(), rel=1e-5)
    assert output.task_losses["temporal"].item() == pytest.approx(temporal_loss.item(), rel=1e-5)
    assert output.loss.item() == pytest.approx((0.5 * spatial_loss + 2.0 * temporal_loss).item(), rel=1e-5)
    output.loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_levels_add_up_with_their_weights():
    """The preset's two levels (stage 3's map pooled over space and time, weight 0.5; the pooled output, weight 1):
    each subtask's loss is the weighted sum of the levels' losses, each from its own heads."""
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = HDCForPreTraining(config)
    clips = multi_view_clips(config, batch=3)
    output = model(pixel_values_videos=clips)
    with torch.no_grad():
        states = model.hdc.backbone(clips.transpose(0, 1).flatten(0, 1), output_hidden_states=True)
        levels = [states.hidden_states[-2].mean(dim=(2, 3, 4)), states.pooler_output]  # view after view
    assert levels[0].shape == (12, 32)
    spatial_loss, temporal_loss = 0.0, 0.0
    for index, (weight, features) in enumerate(zip([0.5, 1.0], levels)):
        spatial = model.spatial_heads[index](features).view(4, 3, -1)
        temporal = model.temporal_heads[index](features).view(4, 3, -1)
        level_spatial, level_temporal = subtask_losses_by_hand(spatial, temporal)
        spatial_loss += weight * level_spatial
        temporal_loss += weight * level_temporal
    assert output.task_losses["spatial"].item() == pytest.approx(spatial_loss.item(), rel=1e-5)
    assert output.task_losses["temporal"].item() == pytest.approx(temporal_loss.item(), rel=1e-5)
    assert output.loss.item() == pytest.approx((spatial_loss + temporal_loss).item(), rel=1e-5)


def test_each_level_has_its_own_heads_on_its_hidden_state():
    config = hfvid.get_config(TINY, levels=[1, -2, -1])  # stage 1 (8 channels), stage 3 (32), stage 4 (64)
    model = HDCForPreTraining(config)
    assert [head[0].in_features for head in model.spatial_heads] == [8, 32, 64]
    assert [head[0].in_features for head in model.temporal_heads] == [8, 32, 64]
    vit = HDCForPreTraining(hfvid.get_config("hdc-vit-tiny"))
    assert [head[0].in_features for head in vit.spatial_heads] == [64, 64]
    output = vit(pixel_values_videos=multi_view_clips(vit.config, batch=2))
    assert torch.isfinite(output.loss) and output.hidden_states is None  # computed for the levels, not returned


def test_a_few_steps_on_a_fixed_batch_lower_the_loss():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = HDCForPreTraining(config)
    clips = multi_view_clips(config, noise=0.3)
    losses = training_losses(model, 10, pixel_values_videos=clips)
    assert losses[-1] < losses[0] / 2, losses


def test_processor_takes_two_clips_each_under_two_augmentations(numbered_mp4):
    config = hfvid.get_config(TINY, augmentation={"crop_scale": [1.0, 1.0], "flip_p": 0.0, "color_jitter_p": 0.0, "grayscale_p": 0.0})
    processor = processor_for_config(config)
    mean = torch.tensor(processor.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(processor.image_std).view(1, 3, 1, 1)
    for seed in range(4):
        with VideoReader(numbered_mp4) as reader:
            clips = processor.preprocess_pretraining([reader], rng=np.random.default_rng(seed))["pixel_values_videos"][0]
        assert clips.shape == (4, 8, 3, 32, 32)
        a, a2, b, b2 = (frame_index_of((clip * std + mean) * 255) for clip in clips)
        assert np.array_equal(a, a2) and np.array_equal(b, b2)  # the two views of a clip share its frames
        assert np.array_equal(np.diff(a), np.ones(7)) and np.array_equal(np.diff(b), np.ones(7))
