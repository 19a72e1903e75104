"""BFP: the loss against a hand computation, config validation, the three blocks the processor takes from a real
mp4, the forward and its ablations, and learning on a fixed batch (saving, Auto classes and the card:
test_multiview_methods.py; DDP: test_contrastive_ddp.py; pretrain.py: test_contrastive_pretraining.py)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import frame_index_of, multi_view_clips, training_losses

import hfvid
from hfvid.data.decoding import VideoReader
from hfvid.losses.predictive import feature_prediction_loss
from hfvid.models.bfp import BFPConfig, BFPForPreTraining
from hfvid.presets import processor_for_config

TINY = "bfp-r3d18-tiny"


def test_loss_by_hand():
    """Two predictions, three targets in the global batch (this process holds rows 1 and 2), swapped targets too."""
    predictions = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    targets = torch.tensor([[0.0, -1.0], [3.0, 0.0], [1.0, 1.0]])
    swapped = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    tau = 0.5
    s = 1 / math.sqrt(2)
    # Cosines of prediction 0 ([1, 0]) with targets [0, -1], [3, 0], [1, 1] and swapped [1, 0], [0, 1], [-1, 0];
    # its positive is global row 1. Prediction 1 ([0, 1]); its positive is global row 2.
    rows = [([0.0, 1.0, s, 1.0, 0.0, -1.0], 1), ([-1.0, 0.0, s, 0.0, 1.0, 0.0], 2)]
    expected = sum(
        -cosines[positive] / tau + math.log(sum(math.exp(c / tau) for c in cosines)) for cosines, positive in rows
    ) / 2
    assert feature_prediction_loss(predictions, targets, tau, 1, swapped).item() == pytest.approx(expected, rel=1e-6)
    without_swapped = sum(
        -cosines[positive] / tau + math.log(sum(math.exp(c / tau) for c in cosines[:3])) for cosines, positive in rows
    ) / 2
    assert feature_prediction_loss(predictions, targets, tau, 1).item() == pytest.approx(without_swapped, rel=1e-6)
    with pytest.raises(ValueError, match="offset 2 does not place 2 predictions"):
        feature_prediction_loss(predictions, targets, tau, 2)
    with pytest.raises(ValueError, match="must match all_targets"):
        feature_prediction_loss(predictions, targets, tau, 0, swapped[:2])


def test_presets_and_config_validation():
    assert {"bfp-r3d18", "bfp-r2plus1d18", TINY, "bfp-vit-tiny"} <= set(hfvid.list_configs())
    config = hfvid.get_config("bfp-r2plus1d18")
    assert config.backbone["arch"] == "r2plus1d" and (config.prediction, config.swap_negatives) == ("bidirectional", True)
    assert config.views_per_video == 3 and config.target_blocks == ("past", "future")
    tiny = hfvid.get_config(TINY)
    assert (tiny.num_frames, tiny.image_size, tiny.projection_hidden_dim, tiny.projection_dim) == (8, 32, 128, 64)
    assert BFPConfig(prediction="future", swap_negatives=False).target_blocks == ("future",)
    with pytest.raises(ValueError, match="swap_negatives needs prediction='bidirectional'"):
        BFPConfig(prediction="past")
    with pytest.raises(ValueError, match="prediction must be one of"):
        BFPConfig(prediction="both")
    with pytest.raises(ValueError, match="block_pooling must be one of"):
        BFPConfig(block_pooling="max")
    with pytest.raises(ValueError, match="block_gap must be >= 0"):
        BFPConfig(block_gap=-1)


@pytest.mark.parametrize("block_gap", [0, 3])
def test_processor_takes_past_present_future_blocks_of_a_real_mp4(numbered_mp4, block_gap):
    config = hfvid.get_config(TINY, block_gap=block_gap)  # the tiny preset pre-trains without augmentation
    processor = processor_for_config(config)
    for seed in range(5):
        with VideoReader(numbered_mp4) as reader:
            views = processor.preprocess_pretraining([reader], rng=np.random.default_rng(seed))["pixel_values_videos"]
        assert views.shape == (1, 3, 8, 3, 32, 32)
        mean = torch.tensor(processor.image_mean).view(1, 3, 1, 1)
        std = torch.tensor(processor.image_std).view(1, 3, 1, 1)
        indices = [frame_index_of((block * std + mean) * 255) for block in views[0]]
        start = indices[0][0]
        for number, block in enumerate(indices):  # consecutive frames, blocks block_gap frames apart, in order
            first = start + number * (8 + block_gap)
            assert block.tolist() == list(range(first, first + 8)), (seed, indices)
        assert 0 <= start and start + 24 + 2 * block_gap <= 60


def test_the_three_blocks_share_one_augmentation_draw():
    """A still video (every frame the same picture): whatever crop, flip and colours are drawn, the three blocks come
    out equal only if they share the draw."""
    picture = torch.randint(0, 256, (1, 3, 48, 64), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    still = picture.expand(30, -1, -1, -1).contiguous()
    processor = processor_for_config(hfvid.get_config(TINY, augmentation={}))  # the processor defaults: crops, flips, colours
    crops = set()
    for seed in range(4):
        torch.manual_seed(seed)
        views = processor.preprocess_pretraining([still], rng=np.random.default_rng(seed))["pixel_values_videos"][0]
        assert torch.equal(views[0], views[1]) and torch.equal(views[1], views[2])
        crops.add(views[0, 0].sum().item())
    assert len(crops) == 4  # the draws differ from video to video


def test_forward_loss_and_accuracies_come_from_its_own_heads():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = BFPForPreTraining(config)
    videos = multi_view_clips(config, batch=3)
    output = model(pixel_values_videos=videos)
    with torch.no_grad():  # the same computation by hand: every block in one backbone pass, both orders in one target pass
        last_map = model.bfp(videos.transpose(0, 1).flatten(0, 1)).last_hidden_state  # (9, 64, 1, 2, 2) at 32 px
        assert last_map.shape == (9, 64, 1, 2, 2)  # the 2 x 2 grid is the whole map: its cells, flattened
        past, present, future = last_map.flatten(1).split(3)
        predictions = model.predictor(present)
        targets, swapped = model.target_head(torch.cat([torch.cat([past, future], 1), torch.cat([future, past], 1)])).split(3)
    assert output.loss.item() == pytest.approx(feature_prediction_loss(predictions, targets, 0.1, 0, swapped).item(), rel=1e-5)
    torch.testing.assert_close(output.predictions, F.normalize(predictions, dim=1))
    torch.testing.assert_close(output.targets, F.normalize(targets, dim=1))
    assert output.pooler_output.shape == (3, 3, 64)
    own = F.cosine_similarity(predictions, targets)
    assert output.accuracy["order"].tolist() == (own > F.cosine_similarity(predictions, swapped)).float().tolist()
    output.loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    with pytest.raises(ValueError, match="3 clips"):
        model(pixel_values_videos=videos[:, :2])


def test_playing_the_blocks_backwards_swaps_target_and_hard_negative():
    """With past and future exchanged in the input, each video's target and swapped target exchange places: the
    order accuracy of every video flips (BatchNorm on running statistics, so the batch does not change them)."""
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = BFPForPreTraining(config).eval()
    videos = multi_view_clips(config, batch=4)
    order = model(pixel_values_videos=videos).accuracy["order"]
    flipped = model(pixel_values_videos=videos[:, [2, 1, 0]]).accuracy["order"]
    assert torch.equal(flipped, 1 - order)


def test_the_ablation_without_swapped_negatives():
    """prediction="bidirectional", swap_negatives=False: the same targets, other videos' targets the only negatives."""
    config = hfvid.get_config(TINY, swap_negatives=False)
    torch.manual_seed(0)
    model = BFPForPreTraining(config)
    videos = multi_view_clips(config, batch=3)
    output = model(pixel_values_videos=videos)
    with torch.no_grad():
        past, present, future = model.bfp(videos.transpose(0, 1).flatten(0, 1)).last_hidden_state.flatten(1).split(3)
        predictions, targets = model.predictor(present), model.target_head(torch.cat([past, future], 1))
    assert output.loss.item() == pytest.approx(feature_prediction_loss(predictions, targets, 0.1, 0).item(), rel=1e-5)
    assert list(output.accuracy) == ["instance"]  # no order accuracy without the swapped pair


@pytest.mark.parametrize("prediction", ["future", "past"])
def test_one_directional_ablations_encode_two_blocks(prediction):
    config = hfvid.get_config(TINY, prediction=prediction, swap_negatives=False)
    torch.manual_seed(0)
    model = BFPForPreTraining(config)
    assert model.target_head[0].in_features == 4 * 64  # one block's 2 x 2 grid of features
    videos = multi_view_clips(config, batch=3)
    output = model(pixel_values_videos=videos)
    assert output.pooler_output.shape == (3, 2, 64) and list(output.accuracy) == ["instance"]
    # The block it leaves out plays no part.
    left_out = 0 if prediction == "future" else 2
    changed = videos.clone()
    changed[:, left_out] = torch.randn_like(changed[:, left_out])
    assert model(pixel_values_videos=changed).loss.item() == pytest.approx(output.loss.item(), rel=1e-6)


def test_mean_pooling_and_the_vit_feature_map():
    config = hfvid.get_config(TINY, block_pooling="mean")
    torch.manual_seed(0)
    model = BFPForPreTraining(config)
    assert model.predictor[0].in_features == 64 and model.target_head[0].in_features == 128
    assert torch.isfinite(model(pixel_values_videos=multi_view_clips(config, batch=2)).loss)
    # A ViT's patch tokens on their grid: 4 x 4 x 4 at 8 frames of 32 px, pooled to 2 x 2 cells.
    vit = BFPForPreTraining(hfvid.get_config("bfp-vit-tiny"))
    assert vit.predictor[0].in_features == 4 * 64
    videos = multi_view_clips(vit.config, batch=2)
    tokens = vit.bfp(videos[:, 0]).last_hidden_state
    feature_map = vit.bfp.backbone.feature_map(tokens, videos.shape[-4:])
    assert feature_map.shape == (2, 64, 4, 4, 4) and torch.equal(feature_map[:, :, 1, 2, 3], tokens[:, 16 + 2 * 4 + 3])
    assert torch.isfinite(vit(pixel_values_videos=videos).loss)
    dropping = {**vit.config.backbone, "token_drop_ratio": 0.5}
    with pytest.raises(ValueError, match="do not fill the 4 x 4 x 4 token grid"):
        BFPForPreTraining(hfvid.get_config("bfp-vit-tiny", backbone=dropping)).train()(pixel_values_videos=videos)
    pooled = BFPForPreTraining(hfvid.get_config("bfp-vit-tiny", backbone=dropping, block_pooling="mean")).train()
    assert torch.isfinite(pooled(pixel_values_videos=videos).loss)  # mean pooling works with dropped tokens


def test_a_few_steps_on_a_fixed_batch_lower_the_loss():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = BFPForPreTraining(config)
    videos = multi_view_clips(config)
    losses = training_losses(model, 8, pixel_values_videos=videos)
    output = model(pixel_values_videos=videos)
    assert losses[-1] < losses[0] / 2, losses
    assert output.accuracy["instance"].mean().item() == 1.0 and output.accuracy["order"].mean().item() == 1.0
