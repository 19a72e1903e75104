"""SimSiam: config, loss and stop-gradient, learning (saving, Auto classes, video processor and model card:
test_multiview_methods.py)."""

import pytest
import torch
from conftest import multi_view_clips, training_losses

import hfvid
from hfvid.models.simsiam import SimSiamConfig, SimSiamForPreTraining

TINY = "simsiam-r3d18-tiny"


def test_presets_and_config_validation():
    assert {"simsiam-r3d18", "simsiam-r2plus1d18", TINY} <= set(hfvid.list_configs())
    config = hfvid.get_config("simsiam-r2plus1d18")
    assert (config.projection_dim, config.projection_hidden_dim, config.predictor_hidden_dim) == (2048, 2048, 512)
    tiny = hfvid.get_config(TINY)
    assert (tiny.projection_dim, tiny.projection_hidden_dim, tiny.predictor_hidden_dim) == (64, 128, 16)
    # The predictor's bottleneck follows projection_dim unless given.
    assert SimSiamConfig(projection_dim=256).predictor_hidden_dim == 64
    assert SimSiamConfig(projection_dim=256).to_dict()["predictor_hidden_dim"] == 64  # saved resolved
    assert SimSiamConfig(projection_dim=256, predictor_hidden_dim=100).predictor_hidden_dim == 100
    with pytest.raises(ValueError, match="at least two views per video"):
        SimSiamConfig(clips_per_video=1)
    with pytest.raises(ValueError, match="compares 2 views per video"):
        SimSiamConfig(clips_per_video=3)


def test_loss_is_symmetric_negative_cosine_of_predictions_and_projections():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = SimSiamForPreTraining(config)
    output = model(pixel_values_videos=multi_view_clips(config, batch=3))
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
    loss = model(pixel_values_videos=multi_view_clips(config)).loss
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
    videos = multi_view_clips(config)
    losses = training_losses(model, 6, pixel_values_videos=videos)
    assert losses[-1] < losses[0] - 0.3, losses
