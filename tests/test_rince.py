"""RINCE: ranked candidates (same clip > same video, in the batch and in the queue > other videos), the loss
on them, temperatures per rank, the queue after reloading (saving, Auto classes, processor output and model
card: test_multiview_methods.py)."""

import pytest
import torch
import torch.nn.functional as F
from conftest import multi_view_clips, training_losses

import hfvid
from hfvid.losses.contrastive import rank_temperatures, rince_loss
from hfvid.models.rince import RINCEForPreTraining

TINY = "rince-r3d18-tiny"


def tiny_model(**overrides) -> RINCEForPreTraining:
    torch.manual_seed(0)
    return RINCEForPreTraining(hfvid.get_config(TINY, **overrides)).train()


def test_config_defaults_and_validation():
    config = hfvid.get_config(TINY)
    assert (config.clips_per_video, config.views_per_clip, config.views_per_video) == (2, 2, 4)
    assert config.variant == "out-in" and config.rank_similarities == [1.0, 0.75]
    with pytest.raises(ValueError, match="views_per_clip"):
        hfvid.get_config(TINY, views_per_clip=1)
    with pytest.raises(ValueError, match="variant"):
        hfvid.get_config(TINY, variant="sideways")


def test_candidates_are_ranked_same_clip_then_same_video_including_the_queue():
    model = tiny_model()
    first = model(multi_view_clips(model.config, batch=2), video_ids=torch.tensor([7, 9]))
    model.after_optimizer_step(1)  # queues the first batch's keys
    # Queries and keys are laid out video after video, clip after clip: (v7 c0, v7 c1, v9 c0, v9 c1).
    assert first.ranks.tolist() == [[1, 2, 0, 0], [2, 1, 0, 0], [0, 0, 1, 2], [0, 0, 2, 1]]
    second = model(multi_view_clips(model.config, batch=2, seed=1), video_ids=torch.tensor([9, 5]))
    queued = second.ranks[:, 4:]  # the queue holds the first batch's keys of videos 7, 7, 9, 9
    assert queued.tolist() == [[0, 0, 2, 2], [0, 0, 2, 2], [0, 0, 0, 0], [0, 0, 0, 0]]
    model.after_optimizer_step(2)
    assert model.queue()[1].tolist() == [7, 7, 9, 9, 9, 9, 5, 5]


def test_without_video_ids_the_queue_holds_only_negatives():
    model = tiny_model()
    model(multi_view_clips(model.config, batch=2))
    model.after_optimizer_step(1)
    second = model(multi_view_clips(model.config, batch=2, seed=1))
    assert second.ranks[:, :4].tolist() == [[1, 2, 0, 0], [2, 1, 0, 0], [0, 0, 1, 2], [0, 0, 2, 1]]
    assert (second.ranks[:, 4:] == 0).all()


def test_loss_is_rince_on_query_key_similarities_with_per_rank_temperatures():
    model = tiny_model(variant="in", rank_similarities=[1.0, 0.5])
    model(multi_view_clips(model.config, batch=2), video_ids=torch.tensor([1, 2]))
    model.after_optimizer_step(1)  # something in the queue
    model.eval()
    pixel_values = multi_view_clips(model.config, batch=2, seed=3)
    output = model(pixel_values, video_ids=torch.tensor([2, 3]))
    split = pixel_values.unflatten(1, (2, 2))
    queries = F.normalize(model.projector(model.rince(split[:, :, 0].flatten(0, 1)).pooler_output), dim=1)
    keys = torch.cat([model.key_encoder(split[:, :, 1].flatten(0, 1)), model.queue()[0]])
    torch.testing.assert_close(output.similarities, queries @ keys.T)
    temperatures = rank_temperatures([1.0, 0.5], 0.1, 0.6)
    assert temperatures.tolist() == pytest.approx([0.1, 0.35])
    torch.testing.assert_close(output.loss, rince_loss(queries @ keys.T, output.ranks, temperatures, "in"))


def test_training_steps_lower_the_loss_on_a_fixed_batch():
    model = tiny_model(queue_size=0)
    batch, ids = multi_view_clips(model.config, batch=6), torch.arange(6)
    first = model(batch, video_ids=ids).loss.item()
    training_losses(model, 15, pixel_values_videos=batch, video_ids=ids)
    assert model(batch, video_ids=ids).loss.item() < first


def test_reloaded_model_keeps_the_queue_with_its_video_ids(tmp_path):
    model = tiny_model()
    model(multi_view_clips(model.config, batch=2), video_ids=torch.tensor([1, 2]))
    model.after_optimizer_step(1)
    model.save_pretrained(tmp_path)
    loaded = RINCEForPreTraining.from_pretrained(tmp_path).train()
    assert loaded.queue()[1].tolist() == [1, 1, 2, 2]
    assert torch.isfinite(loaded(multi_view_clips(model.config, batch=2, seed=1), video_ids=torch.tensor([1, 3])).loss)
