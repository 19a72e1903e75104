"""The video ViT backbone (hfvid/backbones/vit.py): every method pre-trains with it through pretrain.py and
reloads through the Auto classes; positions for other clip sizes; token dropping only in pre-training;
NormSoftmax against its formula; heat treatment driven by the per-step hook, saved, off at inference. (The
transformers common tests for the ViT models are in tests/test_transformers_common.py.)"""

from __future__ import annotations

import json
import math

import pytest
import torch
from conftest import losses, run_in_process
from transformers import AutoModel, AutoModelForPreTraining, AutoModelForVideoClassification

import hfvid
from hfvid.backbones.registry import build_backbone
from hfvid.backbones.vit import VIT_PRESETS, VideoViT, drop_tokens, vit_config

METHODS = ("transrank", "moco", "simclr", "byol", "simsiam", "rince", "bfp", "brave", "lsfd", "hdc", "nextframe")


def tiny(**overrides) -> dict:
    return {**VIT_PRESETS["vit_tiny"], **overrides}


@pytest.mark.parametrize("method", METHODS)
def test_every_method_pretrains_with_the_vit_and_reloads(method, synthmotion_dir, tmp_path):
    out = tmp_path / method
    summary = run_in_process(
        ["--model", f"{method}-vit-tiny", "--dataset", synthmotion_dir, "--batch_size", "4", "--max_steps", "2",
         "--warmup_steps", "1", "--no_evaluate", "--output_dir", str(out)]  # fmt: skip
    )
    assert summary["steps"] == 2
    assert sorted(losses(out)) == [1, 2] and all(math.isfinite(loss) for loss in losses(out).values())
    config = json.loads((out / "config.json").read_text())
    assert config["backbone"]["arch"] == "vit"
    assert "video ViT, 4 blocks, width 64" in (out / "README.md").read_text()  # the card describes the ViT
    pretrained = AutoModelForPreTraining.from_pretrained(out)
    video = torch.randn(2, 8, 3, 32, 32)
    backbone = AutoModel.from_pretrained(out).eval()
    assert torch.equal(backbone.backbone.embeddings.patch_embedding.weight, pretrained.base_model.backbone.embeddings.patch_embedding.weight)
    features = backbone(video, output_attentions=True)
    assert features.pooler_output.shape == (2, 64) and features.attentions[0].shape == (2, 4, 64, 64)
    classifier = AutoModelForVideoClassification.from_pretrained(out, num_labels=8)
    assert classifier(video).logits.shape == (2, 8)


def test_positions_follow_other_clip_sizes():
    backbone = build_backbone("vit_tiny").eval()
    grid = backbone.embeddings.grid
    assert torch.equal(backbone.embeddings.positions(grid), backbone.embeddings.positions(tuple(grid)))
    table = backbone.embeddings.positions(grid).reshape(*grid, -1)
    # the preset's own grid is the learned tables added, not interpolated
    expected = backbone.embeddings.temporal_position[0][:, None, None] + backbone.embeddings.spatial_position[0].reshape(*grid[1:], -1)
    assert torch.allclose(table, expected)
    for frames, size in ((4, 32), (16, 48), (8, 64)):
        output = backbone(torch.randn(1, frames, 3, size, size))
        assert output.last_hidden_state.shape == (1, frames // 2 * (size // 8) ** 2, 64)
    with pytest.raises(ValueError, match="does not split into 2 x 8 x 8 tubelets"):
        backbone(torch.randn(1, 8, 3, 30, 32))
    sinusoidal = build_backbone(tiny(position_embedding="sinusoidal"))
    assert not any("position" in name for name, _ in sinusoidal.named_parameters())


def test_config_errors_name_the_key():
    with pytest.raises(ValueError, match="unknown keys \\['heads'\\]"):
        vit_config(tiny(heads=3))
    with pytest.raises(ValueError, match="not a multiple of num_heads"):
        vit_config(tiny(num_heads=3))
    with pytest.raises(ValueError, match="token_drop='tube'"):
        vit_config(tiny(attention_type="divided", token_drop_ratio=0.5))
    with pytest.raises(ValueError, match="attention must be one of"):
        vit_config(tiny(attention="linear"))


@pytest.mark.parametrize("mode", ["random", "tube"])
def test_token_dropping_keeps_a_share_in_order(mode):
    tokens = torch.arange(2 * 4 * 16, dtype=torch.float32).reshape(2, 64, 1).expand(-1, -1, 3)  # grid 4 x 4 x 4
    kept, grid = drop_tokens(tokens, (4, 4, 4), 0.75, mode)
    assert kept.shape == (2, 16, 3) and grid[0] * grid[1] * grid[2] == 16
    index = kept[..., 0] - torch.arange(2)[:, None] * 64
    assert (index.diff(dim=1) > 0).all()  # original order
    assert not torch.equal(index[0], index[1])  # per sample
    if mode == "tube":  # the same 4 spatial positions at each of the 4 times
        positions = (index % 16).reshape(2, 4, 4)
        assert (positions == positions[:, :1]).all() and grid == (4, 4, 1)


def test_tokens_are_dropped_in_pretraining_only():
    config = hfvid.get_config("moco-vit-tiny", backbone=tiny(token_drop_ratio=0.75, token_drop="tube"))
    pretraining = AutoModelForPreTraining.from_config(config).train()
    seen = []
    pretraining.base_model.backbone.blocks[0].register_forward_hook(lambda module, args, output: seen.append(args[0].shape[1]))
    pretraining(torch.randn(2, 2, 8, 3, 32, 32))
    assert seen == [16]  # 64 tokens, 0.75 dropped
    pretraining.eval()(torch.randn(2, 2, 8, 3, 32, 32))
    assert seen[-1] == 64  # inference: every token
    for model_class in (AutoModel, AutoModelForVideoClassification):  # a fine-tuned or plain model never drops
        model = model_class.from_config(config).train()
        seen.clear()
        model.base_model.backbone.blocks[0].register_forward_hook(lambda module, args, output: seen.append(args[0].shape[1]))
        model(torch.randn(2, 8, 3, 32, 32))
        assert seen == [64]


@pytest.mark.parametrize("attention", ["norm_softmax", "norm_softmax_std"])
def test_norm_softmax_is_the_formula(attention):
    backbone = build_backbone(tiny(attention=attention)).eval()
    layer = backbone.blocks[0].attention
    hidden = torch.randn(2, 64, 64) * 3
    _, weights = layer(hidden, backbone.standard_scale, output_attentions=True)
    query, key, _ = layer.qkv(hidden).reshape(2, 64, 3, 4, 16).permute(2, 0, 3, 1, 4)
    logits = query @ key.transpose(-2, -1)
    spread = logits.var(dim=-1, unbiased=False, keepdim=True) if attention == "norm_softmax" else logits.std(dim=-1, keepdim=True)
    expected = (logits / torch.minimum(spread, torch.tensor(math.sqrt(16)))).softmax(dim=-1)
    assert torch.allclose(weights, expected, atol=1e-6)
    plain = build_backbone(tiny()).eval()
    plain.load_state_dict(backbone.state_dict())
    assert not torch.allclose(plain(hidden.new_ones(1, 8, 3, 32, 32)).pooler_output, backbone(hidden.new_ones(1, 8, 3, 32, 32)).pooler_output)


def test_heat_treatment_follows_the_hook_is_saved_and_is_off_at_inference(tmp_path):
    config = hfvid.get_config("simclr-vit-tiny", backbone=tiny(heat_treatment=True))
    model = AutoModelForPreTraining.from_config(config)
    backbone = model.base_model.backbone
    per_64 = 8 / math.sqrt(16)  # the paper's values are for 64-dimensional heads; these heads have 16
    assert float(backbone.heat_scale) == pytest.approx(3.0 * per_64)
    model.after_optimizer_step(25, 100)  # half-way through the first half: the cosine's midpoint
    assert float(backbone.heat_scale) == pytest.approx((0.125 + (3.0 - 0.125) / 2) * per_64)
    model.after_optimizer_step(60, 100)  # second half: the end value, the standard 1/sqrt(d_head)
    assert float(backbone.heat_scale) == pytest.approx(0.125 * per_64) == pytest.approx(backbone.standard_scale)
    model.after_optimizer_step(10, 100)
    saved = float(backbone.heat_scale)
    model.save_pretrained(tmp_path / "model")
    reloaded = AutoModelForPreTraining.from_pretrained(tmp_path / "model").base_model.backbone
    assert float(reloaded.heat_scale) == pytest.approx(saved)
    assert backbone.train().attention_scale() == pytest.approx(saved)
    assert backbone.eval().attention_scale() == backbone.standard_scale


def test_divided_attention_and_cls_pooling_run_and_differ():
    video = torch.randn(2, 8, 3, 32, 32)
    joint = build_backbone("vit_tiny").eval()
    divided = build_backbone(tiny(attention_type="divided")).eval()
    output = divided(video, output_attentions=True)
    assert output.pooler_output.shape == (2, 64) and output.attentions[0].shape == (2 * 4, 4, 16, 16)
    assert set(divided.state_dict()) > set(joint.state_dict())  # its own temporal attention per block
    cls = build_backbone(tiny(cls_token=True, pooling="cls")).eval()
    assert torch.equal(cls(video).pooler_output, cls(video).last_hidden_state[:, 0])


def test_frame_difference_input_keeps_the_token_grid():
    """input="frame_difference": the tubelets see x[t+1] - x[t], the last difference repeated up to a multiple of
    the tubelet size, so 8 frames keep the RGB grid of 4 x 4 x 4 tokens; the same weights on RGB input given those
    differences agree; a still clip looks like a black one; one frame is refused by name."""
    torch.manual_seed(0)
    difference = build_backbone(tiny(input="frame_difference")).eval()
    rgb = build_backbone(tiny()).eval()
    rgb.load_state_dict(difference.state_dict())
    clips = torch.randn(2, 8, 3, 32, 32)
    steps = clips[:, 1:] - clips[:, :-1]
    with torch.no_grad():
        output = difference(clips)
        assert output.last_hidden_state.shape == rgb(clips).last_hidden_state.shape == (2, 64, 64)
        torch.testing.assert_close(output.pooler_output, rgb(torch.cat([steps, steps[:, -1:]], dim=1)).pooler_output)
        still = clips[:, :1].expand(-1, 8, -1, -1, -1)
        torch.testing.assert_close(difference(still).pooler_output, rgb(torch.zeros(2, 8, 3, 32, 32)).pooler_output)
        # 7 frames give 6 differences: already whole tubelets, nothing repeated
        torch.testing.assert_close(difference(clips[:, :7]).pooler_output, rgb(steps[:, :6]).pooler_output)
    assert "on differences of consecutive frames" in difference.describe() and "differences" not in rgb.describe()
    with pytest.raises(ValueError, match="input 'frame_difference' needs clips of at least 2 frames, got 1"):
        difference(clips[:, :1])
    with pytest.raises(ValueError, match="input must be one of"):
        vit_config(tiny(input="flow"))


def test_eager_and_sdpa_agree():
    backbone = build_backbone("vit_tiny").eval()
    video = torch.randn(2, 8, 3, 32, 32)
    sdpa, eager = backbone(video).pooler_output, backbone(video, attn_implementation="eager").pooler_output
    assert torch.allclose(sdpa, eager, atol=1e-5)


def test_the_residual_stream_is_laid_out_token_major():
    """Every block's hidden states are contiguous (B, N, D): a transposed layout from the patch convolution made
    every layer norm and residual add copy across it (ViT-B 0.88x VideoMAE's bf16 step on a GPU, 1.03x after;
    docs/results/profile_vit_gpu.md)."""
    for overrides in ({}, {"attention_type": "divided"}, {"cls_token": True}):
        backbone = build_backbone(tiny(**overrides)).train()
        output = backbone(torch.randn(2, 8, 3, 32, 32), output_hidden_states=True)
        assert all(hidden.is_contiguous() for hidden in output.hidden_states), overrides


def test_registry_lists_the_vit_presets():
    assert isinstance(build_backbone("vit_s"), VideoViT)
    assert {"vit_tiny", "vit_s", "vit_b"} <= set(hfvid.backbones.registry.backbone_presets())
    assert {f"{method}-vit-{size}" for method in METHODS for size in ("tiny", "s", "b")} <= set(hfvid.list_configs())


def tiny_transformers_checkpoint(model_type: str, folder, model_class=None) -> torch.nn.Module:
    """A tiny randomly initialised transformers checkpoint of ``model_type``, saved in ``folder``."""
    from transformers import AutoConfig

    extra = {"num_frames": 4, "tubelet_size": 2} if model_type == "videomae" else {}
    config = AutoConfig.for_model(model_type, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                  intermediate_size=32, image_size=16, patch_size=8, num_labels=3, **extra)  # fmt: skip
    torch.manual_seed(0)
    model = (model_class or AutoModel).from_config(config).eval()
    model.save_pretrained(folder)
    return model


@pytest.mark.parametrize("model_type", ["vit", "dinov2", "deit"])
def test_an_image_vit_checkpoint_starts_a_video_vit(model_type, tmp_path):
    from hfvid.backbones.vit_conversion import video_vit_from_transformers

    image_model = tiny_transformers_checkpoint(model_type, tmp_path / model_type)
    image = torch.randn(2, 3, 16, 16)
    one_frame = video_vit_from_transformers(tmp_path / model_type, num_frames=1, tubelet_size=1).eval()
    with torch.no_grad():
        expected = image_model(pixel_values=image).last_hidden_state
        ours = one_frame(image[:, None]).last_hidden_state
    if model_type == "deit":  # its distillation token (left out here) takes part in attention
        assert ours.shape == (2, 5, 16)
    else:  # one frame: exactly the image model (CLS first, then the patches)
        assert torch.allclose(ours, expected, atol=1e-5)
    # Inflated over a 2-frame tubelet: a still video gives every tubelet the image's patch embedding.
    video = video_vit_from_transformers(tmp_path / model_type, num_frames=4, tubelet_size=2).eval()
    with torch.no_grad():
        still = image[:, None].expand(-1, 4, -1, -1, -1)
        tubelets = video.embeddings.patch_embedding(still.transpose(1, 2)).flatten(3)  # (B, D, t, h*w)
        patches = one_frame.embeddings.patch_embedding(image[:, :, None]).flatten(3)
    assert torch.allclose(tubelets, patches.expand_as(tubelets), atol=1e-5)
    assert video.config["cls_token"] and video(torch.randn(1, 8, 3, 32, 32)).pooler_output.shape == (1, 16)


def test_a_videomae_checkpoint_loads_layer_for_layer(tmp_path):
    from transformers import AutoModelForVideoClassification

    from hfvid.backbones.vit_conversion import video_vit_from_transformers

    encoder = tiny_transformers_checkpoint("videomae", tmp_path / "encoder")
    video = torch.randn(2, 4, 3, 16, 16)
    ours = video_vit_from_transformers(tmp_path / "encoder").eval()
    with torch.no_grad():
        assert torch.allclose(ours(video).last_hidden_state, encoder(video).last_hidden_state, atol=1e-5)
    classifier = tiny_transformers_checkpoint("videomae", tmp_path / "classifier", AutoModelForVideoClassification)
    ours = video_vit_from_transformers(tmp_path / "classifier").eval()
    with torch.no_grad():  # the classifier's fc_norm is the pooled features' norm
        expected = classifier.fc_norm(classifier.videomae(video).last_hidden_state.mean(dim=1))
        assert torch.allclose(ours(video).pooler_output, expected, atol=1e-5)


def test_pretraining_starts_from_a_converted_image_vit(synthmotion_dir, tmp_path):
    """python -m hfvid.convert.transformers_vit, then pretrain.py --init_backbone with a ViT preset: the preset
    takes the checkpoint's architecture and weights."""
    from safetensors.torch import load_file

    from hfvid.convert import transformers_vit

    tiny_transformers_checkpoint("dinov2", tmp_path / "dinov2")
    transformers_vit.main(["--model", str(tmp_path / "dinov2"), "--num_frames", "8", "--out", str(tmp_path / "converted")])
    out = tmp_path / "run"
    run_in_process(
        ["--model", "simclr-vit-tiny", "--dataset", synthmotion_dir, "--batch_size", "2", "--max_steps", "1",
         "--learning_rate", "0", "--warmup_steps", "0", "--no_evaluate", "--init_backbone", str(tmp_path / "converted"),
         "--output_dir", str(out)]  # fmt: skip
    )
    backbone = AutoModel.from_pretrained(out).backbone
    assert backbone.config["hidden_size"] == 16 and backbone.config["layer_scale"] is not None  # DINOv2's shape
    converted = load_file(str(tmp_path / "converted" / "backbone.safetensors"))
    assert torch.equal(backbone.embeddings.patch_embedding.weight, converted["embeddings.patch_embedding.weight"])
