"""MoCo: momentum key encoder, key queue, InfoNCE against the queue, nearby 1x clips from a real mp4 (saving,
Auto classes, processor output and model card: test_multiview_methods.py)."""

import numpy as np
import pytest
import torch
from conftest import frame_index_of, multi_view_clips, training_losses

import hfvid
from hfvid.data.decoding import VideoReader
from hfvid.losses.contrastive import info_nce_loss
from hfvid.models.moco import MoCoForPreTraining, MoCoVideoProcessor

TINY = "moco-r3d18-tiny"


def tiny_model(**overrides) -> MoCoForPreTraining:
    torch.manual_seed(0)
    return MoCoForPreTraining(hfvid.get_config(TINY, **overrides)).train()


def test_config_validates_and_avoids_generation_field_names():
    config = hfvid.get_config(TINY)
    assert (config.views_per_video, config.queue_size, config.gap_distribution) == (2, 256, "decreasing")
    assert not hasattr(config, "temperature") or config.temperature is None
    with pytest.raises(ValueError, match="momentum"):
        hfvid.get_config(TINY, momentum=1.0)
    with pytest.raises(ValueError, match="two views"):
        hfvid.get_config(TINY, clips_per_video=1)
    with pytest.raises(ValueError, match="compares 2 views per video"):
        hfvid.get_config(TINY, clips_per_video=3)


def test_key_encoder_starts_equal_then_follows_by_momentum():
    model = tiny_model(momentum=0.9)
    model(multi_view_clips(model.config))  # first training forward copies the online weights
    model.after_optimizer_step(1)  # queues its keys (the copies equal the online weights: no move)
    online, key = dict(model.moco.backbone.named_parameters()), dict(model.key_encoder["backbone"].named_parameters())
    assert all(torch.equal(online[name], key[name]) for name in online)
    before = {name: p.detach().clone() for name, p in key.items()}
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    model(multi_view_clips(model.config, seed=1)).loss.backward()
    optimizer.step()
    assert all(not p.requires_grad for p in model.key_encoder.parameters())
    model(multi_view_clips(model.config, seed=2))  # forward passes do not move the key encoder
    assert all(torch.equal(before[name], key[name]) for name in key)
    model.after_optimizer_step(2)  # the once-per-optimiser-step hook does
    for name, value in key.items():
        torch.testing.assert_close(value, 0.9 * before[name] + 0.1 * online[name].detach())
    assert any(not torch.equal(before[name], key[name]) for name in key)


def test_loss_is_info_nce_against_the_queue_and_keys_are_queued():
    model = tiny_model(queue_size=6)
    first = model(multi_view_clips(model.config), video_ids=torch.tensor([10, 11, 12, 13]))
    assert first.loss.item() == pytest.approx(0.0, abs=1e-6)  # an empty queue holds no negatives
    assert len(model.queue()[0]) == 0  # keys are staged until the optimiser step's hook
    model.after_optimizer_step(1)
    keys, ids = (t.clone() for t in model.queue())
    torch.testing.assert_close(keys, first.key_embeddings)
    assert ids.tolist() == [10, 11, 12, 13]

    second = model(multi_view_clips(model.config, seed=1), video_ids=torch.tensor([20, 21, 22, 23]))
    expected = info_nce_loss(second.query_embeddings, second.key_embeddings, keys, model.config.loss_temperature)
    torch.testing.assert_close(second.loss, expected)
    model.after_optimizer_step(2)
    # The queue holds 6: the two oldest keys were overwritten in place, first in first out.
    assert model.queue()[1].tolist() == [22, 23, 12, 13, 20, 21]


def test_evaluation_mode_neither_updates_nor_queues():
    model = tiny_model()
    model(multi_view_clips(model.config))
    model.eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model(multi_view_clips(model.config, seed=1))
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_a_few_steps_on_a_fixed_batch_learn_instance_discrimination():
    model = tiny_model(queue_size=8)
    batch, ids = multi_view_clips(model.config, batch=8), torch.arange(8)
    for step in range(3):  # fill the queue
        model(batch, video_ids=ids)
        model.after_optimizer_step(step + 1)
    first = model(batch, video_ids=ids).loss.item()
    training_losses(model, 15, pixel_values_videos=batch, video_ids=ids)
    assert model(batch, video_ids=ids).loss.item() < first


def test_processor_takes_two_nearby_1x_clips_of_a_real_mp4(numbered_mp4):
    processor = MoCoVideoProcessor(num_frames=8, crop_size={"height": 32, "width": 32}, color_jitter_p=0.0,
                                   grayscale_p=0.0, flip_p=0.0, crop_scale=[1.0, 1.0])  # fmt: skip
    with VideoReader(numbered_mp4) as reader:
        indices = processor.sample_pretraining_indices(reader.metadata.num_frames, np.random.default_rng(0))
        frames = reader.get_frames(np.concatenate(indices))
        views = processor.pretraining_views(reader, np.random.default_rng(0))
    assert len(indices) == 2 and all(np.array_equal(np.diff(i), np.ones(7)) for i in indices)
    assert frame_index_of(frames).tolist() == np.concatenate(indices).tolist()
    assert list(views) == ["pixel_values_videos"]
    clips = views["pixel_values_videos"]
    assert clips.shape == (2, 8, 3, 32, 32) and clips.dtype == torch.float32


def test_reverse_negatives_add_each_querys_own_key_played_backwards():
    model = tiny_model(reverse_negatives=True, queue_size=4)
    clips = multi_view_clips(model.config, seed=3)
    model.eval()  # no staging, so the loss can be recomputed from the parts
    output = model(clips)
    with torch.no_grad():
        reversed_keys = model.key_encoder(clips[:, 1].flip(1))
    expected = info_nce_loss(output.query_embeddings, output.key_embeddings, model.queue()[0],
                             model.config.loss_temperature, own_negatives=reversed_keys[:, None])  # fmt: skip
    torch.testing.assert_close(output.loss, expected)
    assert output.loss.item() > 0  # an empty queue, yet a negative per query
