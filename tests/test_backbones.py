"""Video ResNet backbones: parity with torchvision, tiny variants, configs."""

from __future__ import annotations

import json
import time

import pytest
import torch
import torchvision

from hfvid.backbones import (
    BACKBONE_CONFIGS,
    VideoResNet,
    backbone_config,
    build_backbone,
    convert_torchvision_state_dict,
)


def random_torchvision_model(arch: str) -> torch.nn.Module:
    """torchvision's r3d_18 / r2plus1d_18 with random weights and random batch-norm statistics and
    affine parameters (the defaults, 0 / 1, would hide a batch norm loaded into the wrong place)."""
    torch.manual_seed(0)
    model = getattr(torchvision.models.video, f"{arch}_18")(weights=None)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm3d):
            module.running_mean.normal_(0, 0.2)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.normal_(0, 0.2)
    return model


@pytest.mark.parametrize("arch", ["r3d", "r2plus1d"])
def test_matches_torchvision(arch):
    reference = random_torchvision_model(arch)
    state_dict = convert_torchvision_state_dict(reference.state_dict(), arch)
    with torch.device("meta"):  # skip the random initialisation: every tensor is loaded below
        model = build_backbone(f"{arch}_18")
    model.load_state_dict(state_dict, assign=True)  # strict: every key present, none left over
    reference.fc = torch.nn.Identity()
    reference.eval(), model.eval()

    pixel_values = torch.randn(1, 3, 8, 56, 56, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = reference(pixel_values)
        output = model(pixel_values.transpose(1, 2))  # hfvid takes transformers' (B, T, C, H, W)
    pooled, feature_map = output.pooler_output, output.last_hidden_state
    assert feature_map.shape == (1, 512, 1, 4, 4)
    assert model.num_features == 512
    assert expected.abs().max() > 0.1  # a meaningful signal, not all-zero features
    torch.testing.assert_close(pooled, expected, rtol=0, atol=1e-4)
    torch.testing.assert_close(pooled, feature_map.mean(dim=(2, 3, 4)))


def test_same_parameter_count_as_torchvision():
    for arch in ("r3d", "r2plus1d"):
        reference = getattr(torchvision.models.video, f"{arch}_18")(weights=None)
        reference.fc = torch.nn.Identity()
        with torch.device("meta"):
            model = build_backbone(f"{arch}_18")
        count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
        assert count(model) == count(reference), arch


def test_convert_accepts_preset_names_and_drops_fc():
    state_dict = torchvision.models.video.r3d_18(weights=None).state_dict()
    converted = convert_torchvision_state_dict(state_dict, "r3d_18")
    assert not any(key.startswith("fc.") for key in converted)
    assert set(converted) == set(convert_torchvision_state_dict(state_dict, "r3d"))


def test_convert_rejects_mismatched_state_dicts():
    state_dict = torchvision.models.video.r3d_18(weights=None).state_dict()
    with pytest.raises(ValueError, match="unexpected keys.*extra.weight"):
        convert_torchvision_state_dict({**state_dict, "extra.weight": torch.zeros(1)}, "r3d")
    missing = dict(state_dict)
    del missing["layer4.1.conv2.1.running_var"]
    with pytest.raises(ValueError, match=r"missing keys.*stages\.3\.1\.norm2\.running_var"):
        convert_torchvision_state_dict(missing, "r3d")
    with pytest.raises(ValueError, match="layer1.0.conv1.0.weight"):  # an R3D state dict is not an R(2+1)D one
        convert_torchvision_state_dict(state_dict, "r2plus1d")
    with pytest.raises(ValueError, match="shape mismatches"):
        convert_torchvision_state_dict(state_dict, {"arch": "r3d", "widths": [64, 128, 256, 256]})


@pytest.mark.parametrize("name", ["r3d_tiny", "r2plus1d_tiny"])
def test_tiny_shapes_gradients_and_speed(name):
    torch.manual_seed(0)
    model = build_backbone(name).train()
    pixel_values = torch.randn(2, 8, 3, 32, 32)
    output = model(pixel_values, output_hidden_states=True)
    pooled, feature_map = output.pooler_output, output.last_hidden_state
    assert [tuple(h.shape) for h in output.hidden_states] == [
        (2, 8, 8, 16, 16), (2, 8, 8, 16, 16), (2, 16, 4, 8, 8), (2, 32, 2, 4, 4), (2, 64, 1, 2, 2)
    ]  # the stem's output, then every stage's
    assert model(pixel_values).hidden_states is None
    assert model.num_features == 64
    assert pooled.shape == (2, 64)
    assert feature_map.shape == (2, 64, 1, 2, 2)
    (pooled * torch.randn_like(pooled)).sum().backward()
    for parameter_name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, parameter_name

    step_seconds = []
    for _ in range(3):  # the best of 3: robust to a busy machine
        start = time.perf_counter()
        model(pixel_values).pooler_output.sum().backward()
        step_seconds.append(time.perf_counter() - start)
    assert min(step_seconds) < 1.0, step_seconds


@pytest.mark.parametrize("name", sorted(BACKBONE_CONFIGS))
def test_config_round_trip(name):
    with torch.device("meta"):
        model = build_backbone(name)
        config = json.loads(json.dumps(model.config))
        rebuilt = type(model)(config)
    assert config == backbone_config(name) == rebuilt.config
    assert rebuilt.num_features == model.num_features
    shapes = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    assert shapes == {key: tuple(value.shape) for key, value in rebuilt.state_dict().items()}


def test_config_completion_and_overrides():
    assert backbone_config({"arch": "r3d"}) == BACKBONE_CONFIGS["r3d_18"]
    assert backbone_config({"arch": "r2plus1d"}) == BACKBONE_CONFIGS["r2plus1d_18"]
    assert backbone_config({"arch": "r2plus1d", "stem_width": 8})["stem_midplanes"] == 6
    config = backbone_config("r3d_tiny", layers=(1, 2), widths=(8, 16))
    assert config["layers"] == [1, 2] and config["widths"] == [8, 16]
    output = build_backbone(config)(torch.randn(1, 4, 3, 16, 16))
    assert output.pooler_output.shape == (1, 16) and output.last_hidden_state.shape == (1, 16, 2, 4, 4)
    grey = build_backbone(backbone_config("r2plus1d_tiny", in_channels=1)).eval()
    assert grey(torch.randn(1, 4, 1, 16, 16)).pooler_output.shape == (1, 64)
    with pytest.raises(ValueError, match=r"expected pixel_values_videos \(batch, frames, 1 channels"):
        grey(torch.randn(1, 4, 3, 16, 16))


@pytest.mark.parametrize("arch", ["r3d", "r2plus1d"])
def test_frame_difference_input(arch):
    """input="frame_difference": the stem sees x[t+1] - x[t] (T - 1 frames), so the same network with rgb input on
    the differences gives the same output, a clip that does not change gives the output of a black clip, and a
    one-frame clip is refused by name."""
    config = backbone_config(f"{arch}_tiny", input="frame_difference")
    torch.manual_seed(0)
    difference = build_backbone(config).eval()
    rgb = build_backbone({**config, "input": "rgb"}).eval()
    rgb.load_state_dict(difference.state_dict())
    clips = torch.randn(2, 8, 3, 16, 16)
    with torch.no_grad():
        expected = rgb(clips[:, 1:] - clips[:, :-1]).pooler_output
        torch.testing.assert_close(difference(clips).pooler_output, expected)
        still = clips[:, :1].expand(-1, 8, -1, -1, -1)
        torch.testing.assert_close(difference(still).pooler_output, rgb(torch.zeros(2, 7, 3, 16, 16)).pooler_output)
    assert "on differences of consecutive frames" in difference.describe()
    assert "differences" not in rgb.describe()
    with pytest.raises(ValueError, match="input 'frame_difference' needs clips of at least 2 frames, got 1"):
        difference(clips[:, :1])


@pytest.mark.parametrize(
    "config, message",
    [
        ("resnet50", "valid names: .*r3d_18"),
        ({"arch": "mc3"}, "unknown arch 'mc3'.*r2plus1d"),
        ({"layers": [2, 2, 2, 2]}, "unknown arch None"),
        ({"arch": "r3d", "stem_midplanes": 45}, r"unknown keys \['stem_midplanes'\]"),
        ({"arch": "r3d", "depth": 18}, r"unknown keys \['depth'\]"),
        ({"arch": "r3d", "layers": [2, 2, 2]}, "one entry per stage"),
        ({"arch": "r3d", "widths": [64, 128, 0, 512]}, "widths must be"),
        ({"arch": "r3d", "layers": []}, "layers must be"),
        ({"arch": "r2plus1d", "stem_width": 8.0}, "stem_width must be"),
        ({"arch": "r3d", "in_channels": True}, "in_channels must be"),
        ({"arch": "r3d", "input": "flow"}, r"input must be one of \('rgb', 'frame_difference'\), got 'flow'"),
        (["r3d"], "expected a backbone name or config dict"),
    ],
)
def test_bad_configs(config, message):
    with pytest.raises(ValueError, match=message):
        backbone_config(config)
    with pytest.raises(ValueError, match=message):
        build_backbone(config)


def test_registry_presets_and_gradient_checkpointing():
    from transformers import AutoModelForVideoClassification

    import hfvid
    from hfvid.backbones import BACKBONES, VideoBackbone, register_backbone

    assert BACKBONES["r3d"] is BACKBONES["r2plus1d"] is VideoResNet
    assert "R(2+1)D" in build_backbone("r2plus1d_tiny").describe()
    with pytest.raises(ValueError, match="already registered"):
        register_backbone(type("Other", (VideoBackbone,), {"ARCHS": ("r3d",)}))
    config = hfvid.get_config("transrank-r3d18-tiny", num_labels=3)
    torch.manual_seed(0)
    model = AutoModelForVideoClassification.from_config(config).train()
    model.dropout.p = 0.0
    clips, labels = torch.randn(2, 8, 3, 32, 32), torch.tensor([0, 2])

    def gradients():
        model.zero_grad()
        model(clips, labels=labels).loss.backward()
        return {name: p.grad.clone() for name, p in model.named_parameters()}

    plain = gradients()
    model.gradient_checkpointing_enable()
    blocks = [m for m in model.modules() if type(m).__name__ == "VideoResNetBasicBlock"]
    assert blocks and all(block.gradient_checkpointing for block in blocks)
    checkpointed = gradients()
    for name, gradient in plain.items():
        torch.testing.assert_close(checkpointed[name], gradient, rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.parametrize(
    "problem_type, labels, expected_loss",
    [
        ("single_label_classification", torch.tensor([0, 2]), torch.nn.functional.cross_entropy),
        ("multi_label_classification", torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]), torch.nn.functional.binary_cross_entropy_with_logits),
        ("regression", torch.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, 0.0]]), torch.nn.functional.mse_loss),
    ],
)
def test_classifier_loss_follows_problem_type(problem_type, labels, expected_loss):
    from transformers import AutoModelForVideoClassification

    import hfvid

    config = hfvid.get_config("moco-r3d18-tiny", num_labels=3, problem_type=problem_type)
    model = AutoModelForVideoClassification.from_config(config).eval()
    output = model(torch.randn(2, 8, 3, 32, 32), labels=labels)
    torch.testing.assert_close(output.loss, expected_loss(output.logits, labels))
