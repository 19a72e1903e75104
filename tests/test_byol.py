"""BYOL: config, loss, momentum target, learning, the target after reloading (saving, Auto classes, video
processor and model card: test_multiview_methods.py)."""

import pytest
import torch
import torch.nn.functional as F
from conftest import multi_view_clips, training_losses

import hfvid
from hfvid.models.byol import BYOLConfig, BYOLForPreTraining

TINY = "byol-r3d18-tiny"


def online_and_target(model: BYOLForPreTraining) -> tuple[dict, dict]:
    """{name: parameter copy} of the online backbone + projector and of their target copies, same names."""
    online = {f"backbone.{n}": p.detach().clone() for n, p in model.byol.backbone.named_parameters()}
    online |= {f"projector.{n}": p.detach().clone() for n, p in model.projector.named_parameters()}
    target = {n.removeprefix("copies."): p.detach().clone() for n, p in model.target_encoder.named_parameters()}
    assert online.keys() == target.keys()
    return online, target


def test_presets_and_config_validation():
    assert {"byol-r3d18", "byol-r2plus1d18", TINY} <= set(hfvid.list_configs())
    config = hfvid.get_config("byol-r3d18")
    assert (config.momentum, config.projection_dim, config.projection_hidden_dim, config.predictor_hidden_dim) == (
        0.99,
        256,
        2048,
        2048,
    )
    tiny = hfvid.get_config(TINY)
    assert (tiny.projection_hidden_dim, tiny.projection_dim, tiny.predictor_hidden_dim) == (128, 64, 128)
    with pytest.raises(ValueError, match="momentum must be in"):
        BYOLConfig(momentum=1.0)
    with pytest.raises(ValueError, match="compares 2 views per video"):
        BYOLConfig(clips_per_video=3)


def test_loss_is_two_minus_two_cosine_against_the_target_of_the_other_view():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = BYOLForPreTraining(config)
    videos = multi_view_clips(config, batch=3)
    output = model(pixel_values_videos=videos)
    p, z = output.predictions, output.target_embeddings
    assert p.shape == z.shape == (3, 2, 64) and output.pooler_output.shape == (3, 2, 64)
    expected = ((2 - 2 * (p[:, 0] * z[:, 1]).sum(1)).mean() + (2 - 2 * (p[:, 1] * z[:, 0]).sum(1)).mean()) / 2
    assert output.loss.item() == pytest.approx(expected.item(), rel=1e-5)
    # The first training forward copies the online weights into the target, so the target projections are the
    # online projections (same BatchNorm batch statistics: view 0 of every video, then view 1).
    with torch.no_grad():
        online = model.projector(model.byol(torch.cat([videos[:, 0], videos[:, 1]])).pooler_output)
    torch.testing.assert_close(z, torch.stack(F.normalize(online, dim=1).split(3), dim=1))
    output.loss.backward()
    for name, parameter in model.named_parameters():
        if name.startswith("target_encoder."):
            assert not parameter.requires_grad and parameter.grad is None, name
        else:
            assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_target_copies_then_follows_the_online_weights_by_one_minus_momentum():
    config = hfvid.get_config(TINY, momentum=0.9)
    torch.manual_seed(0)
    model = BYOLForPreTraining(config)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    videos = multi_view_clips(config)
    model(pixel_values_videos=videos).loss.backward()
    online, target = online_and_target(model)
    for name in online:
        assert torch.equal(target[name], online[name]), name
    optimizer.step()
    optimizer.zero_grad()
    online_after_step, target_before = online_and_target(model)
    assert any(not torch.equal(online_after_step[n], online[n]) for n in online), "the step changed nothing"

    model(pixel_values_videos=videos)  # a forward pass leaves the target alone ...
    assert all(torch.equal(p, target_before[n]) for n, p in online_and_target(model)[1].items())
    model.after_optimizer_step(1)  # ... the once-per-optimiser-step hook moves it
    _, target_after = online_and_target(model)
    for name in online:
        expected = target_before[name] + 0.1 * (online_after_step[name] - target_before[name])
        torch.testing.assert_close(target_after[name], expected, rtol=1e-6, atol=1e-7, msg=name)
    assert int(model.target_encoder.num_updates) == 2
    model.eval()(pixel_values_videos=videos)  # evaluation leaves the target alone
    assert int(model.target_encoder.num_updates) == 2
    assert all(torch.equal(p, target_after[n]) for n, p in online_and_target(model)[1].items())


def test_a_few_steps_on_a_fixed_batch_lower_the_loss():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = BYOLForPreTraining(config)
    videos = multi_view_clips(config)
    losses = training_losses(model, 6, pixel_values_videos=videos)
    assert losses[-1] < losses[0] / 2, losses


def test_reloaded_model_keeps_the_initialised_target(tmp_path):
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = BYOLForPreTraining(config)
    model(pixel_values_videos=multi_view_clips(config, batch=2))  # one training forward: the target is initialised
    model.save_pretrained(tmp_path)
    reloaded = BYOLForPreTraining.from_pretrained(tmp_path)
    assert int(reloaded.target_encoder.num_updates) == 1  # continuing pre-training keeps the target
