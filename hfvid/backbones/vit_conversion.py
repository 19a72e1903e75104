"""Start a video ViT from transformers' weights: any image ViT (``vit``, ``deit``, ``dinov2`` model types) or a
VideoMAE encoder (``videomae``).

    backbone = video_vit_from_transformers("facebook/dinov2-small", num_frames=16)   # or a local folder
    model.base_model.backbone.load_state_dict(backbone.state_dict())                 # into any hfvid ViT model

The checkpoint is loaded with transformers (``AutoModel.from_pretrained``), so its own key renames apply, and
mapped by role: query/key/value -> one ``qkv`` projection (a missing key bias, as VideoMAE has, is zero), the
attention output, the two MLP layers, the two norms, LayerScale, the final norm.

- **Image ViTs** are inflated (I3D): the 2-D patch projection is repeated over the tubelet's frames and divided by
  their number, so a video of a still image gives every tubelet the image's patch embedding. The spatial position
  table comes from the image model's (interpolated when the grid differs); the temporal table starts at zero; the
  image's CLS position is added to the CLS token (hfvid's CLS token has no position of its own). DeiT's
  distillation token is left out. The result has a CLS token (``pooling`` is yours: "mean" by default, or "cls").
- **VideoMAE** encoders match layout for layout: fixed sinusoidal positions, no CLS token, mean pooling. With
  VideoMAE's mean pooling (``use_mean_pooling``), its encoder has no final norm and its classifier normalises the
  pooled features (``fc_norm``): hfvid's ``final_norm="pooled"`` does the same, and the norm's weights come from
  ``fc_norm`` where the checkpoint has it (a ``VideoMAEForVideoClassification``), else start as identity.

Tests: a tiny random checkpoint of each model type saved locally gives the same features through hfvid as through
transformers (tests/test_vit.py); nothing is downloaded.
"""

from __future__ import annotations

import re
from typing import Any

import torch

from hfvid.backbones.vit import VideoViT, interpolate_spatial, vit_config

IMAGE_TYPES = ("vit", "deit", "dinov2")
VIDEO_TYPES = ("videomae",)

# Block parameter roles: (regular expression on the key after the block prefix) -> our name.
_BLOCK_ROLES = [
    (r"attention\.(?:q_proj|attention\.query)\.", "q."),
    (r"attention\.(?:k_proj|attention\.key)\.", "k."),
    (r"attention\.(?:v_proj|attention\.value)\.", "v."),
    (r"attention\.(?:o_proj|output\.dense)\.", "attention.proj."),
    (r"(?:layernorm_before|norm1)\.", "norm1."),
    (r"(?:layernorm_after|norm2)\.", "norm2."),
    (r"(?:mlp\.fc1|intermediate\.dense)\.", "mlp.fc1."),
    (r"(?:mlp\.fc2|output\.dense)\.", "mlp.fc2."),
    (r"layer_scale1\.lambda1", "layer_scale1.lambda1"),
    (r"layer_scale2\.lambda1", "layer_scale2.lambda1"),
]
_BLOCK = re.compile(r"^(?:.*\.)?(?:layers|encoder\.layer)\.(\d+)\.(.+)$")


def vit_config_from_transformers(source, num_frames: int = 16, tubelet_size: int = 2, **overrides: Any) -> dict[str, Any]:
    """hfvid's video-ViT backbone config of the shape of a transformers config (``source``, a `PreTrainedConfig`
    of one of ``IMAGE_TYPES`` or ``VIDEO_TYPES``); ``overrides`` replace single keys (e.g. ``pooling="cls"``)."""
    model_type = source.model_type
    if model_type not in IMAGE_TYPES + VIDEO_TYPES:
        raise ValueError(f"cannot start a video ViT from model type {model_type!r}; supported: {IMAGE_TYPES + VIDEO_TYPES}")
    if getattr(source, "hidden_act", "gelu") != "gelu":
        raise ValueError(f"hfvid's ViT uses GELU; {model_type} checkpoint uses {source.hidden_act!r}")
    mlp_ratio = getattr(source, "mlp_ratio", None) if model_type == "dinov2" else source.intermediate_size / source.hidden_size
    image_size = source.image_size if isinstance(source.image_size, int) else source.image_size[0]
    patch_size = source.patch_size if isinstance(source.patch_size, int) else source.patch_size[0]
    config = {
        "arch": "vit",
        "in_channels": source.num_channels,
        "image_size": image_size,
        "patch_size": patch_size,
        "hidden_size": source.hidden_size,
        "depth": source.num_hidden_layers,
        "num_heads": source.num_attention_heads,
        "mlp_ratio": float(mlp_ratio),
        "qkv_bias": bool(getattr(source, "qkv_bias", True)),
        "layer_norm_eps": source.layer_norm_eps,
        "layer_scale": float(source.layerscale_value) if model_type == "dinov2" else None,
    }
    if model_type == "videomae":
        config.update(num_frames=source.num_frames, tubelet_size=source.tubelet_size, position_embedding="sinusoidal",
                      cls_token=False, final_norm="pooled" if source.use_mean_pooling else "tokens",
                      final_norm_eps=1e-5 if source.use_mean_pooling else None)  # fmt: skip; fc_norm: LayerNorm's default eps
    else:
        config.update(num_frames=num_frames, tubelet_size=tubelet_size, position_embedding="learned", cls_token=True)
    return vit_config({**config, **overrides})


def convert_transformers_vit_state_dict(
    state_dict: dict[str, torch.Tensor], model_type: str, config: dict[str, Any]
) -> dict[str, torch.Tensor]:
    """A transformers ViT / DeiT / DINOv2 / VideoMAE state dict (current transformers names, e.g. from a loaded
    model) -> a `VideoViT` state dict for the complete backbone ``config`` (see `vit_config_from_transformers`)."""
    ours: dict[str, torch.Tensor] = {}
    parts: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in state_dict.items():
        block = _BLOCK.match(key)
        if block:
            index, rest = int(block[1]), block[2]
            for pattern, name in _BLOCK_ROLES:
                if re.match(pattern, rest):
                    parts.setdefault(index, {})[name + rest.rsplit(".", 1)[-1] if name.endswith(".") else name] = value
                    break
            continue
        if key.endswith("patch_embeddings.projection.weight"):
            if value.ndim == 4:  # an image model's 2-D patch: inflated over the tubelet's frames
                value = value[:, :, None].repeat(1, 1, config["tubelet_size"], 1, 1) / config["tubelet_size"]
            ours["embeddings.patch_embedding.weight"] = value
        elif key.endswith("patch_embeddings.projection.bias"):
            ours["embeddings.patch_embedding.bias"] = value
        elif re.search(r"(?:^|\.)(?:layernorm|fc_norm)\.(weight|bias)$", key):
            ours[f"norm.{key.rsplit('.', 1)[-1]}"] = value
    if model_type in IMAGE_TYPES:
        table = state_dict[next(key for key in state_dict if key.endswith("embeddings.position_embeddings"))]
        extra = 2 if model_type == "deit" else 1  # CLS (and DeiT's distillation) positions first
        spatial = table[:, extra:]
        side = round(spatial.shape[1] ** 0.5)
        grid = config["image_size"] // config["patch_size"]
        ours["embeddings.spatial_position"] = interpolate_spatial(spatial, (side, side), (grid, grid))
        ours["embeddings.temporal_position"] = torch.zeros(1, config["num_frames"] // config["tubelet_size"], table.shape[-1])
        cls = state_dict[next(key for key in state_dict if key.endswith("embeddings.cls_token"))]
        ours["embeddings.cls_token"] = cls + table[:, :1]
    for index, block in parts.items():
        prefix = f"blocks.{index}."
        ours[prefix + "attention.qkv.weight"] = torch.cat([block["q.weight"], block["k.weight"], block["v.weight"]])
        if config["qkv_bias"]:
            biases = [block.get(f"{name}.bias", torch.zeros_like(block["q.weight"][:, 0])) for name in "qkv"]
            ours[prefix + "attention.qkv.bias"] = torch.cat(biases)
        for name, value in block.items():
            if not name.startswith(("q.", "k.", "v.")):
                ours[prefix + name] = value
    return ours


def video_vit_from_transformers(name_or_path: str, num_frames: int = 16, tubelet_size: int = 2, **overrides: Any) -> VideoViT:
    """A `VideoViT` with the weights of a transformers image ViT / DeiT / DINOv2 or VideoMAE checkpoint (a folder or
    Hub id, loaded with ``AutoModel.from_pretrained``); ``num_frames`` and ``tubelet_size`` for image models,
    ``overrides`` for other config keys. Weights the checkpoint lacks (a VideoMAE encoder's ``fc_norm``) keep
    their fresh initialisation; every other weight is the checkpoint's."""
    from transformers import AutoConfig, AutoModel, AutoModelForImageClassification, AutoModelForVideoClassification

    architecture = (AutoConfig.from_pretrained(name_or_path).architectures or [""])[0]
    loader = AutoModel  # a classifier keeps its own weights (VideoMAE's fc_norm) with its Auto class
    if architecture.endswith("ForVideoClassification"):
        loader = AutoModelForVideoClassification
    elif architecture.endswith("ForImageClassification"):
        loader = AutoModelForImageClassification
    source = loader.from_pretrained(name_or_path)
    config = vit_config_from_transformers(source.config, num_frames, tubelet_size, **overrides)
    backbone = VideoViT(config)
    converted = convert_transformers_vit_state_dict(source.state_dict(), source.config.model_type, config)
    missing, unexpected = backbone.load_state_dict(converted, strict=False)
    allowed = {"heat_scale"} | ({"norm.weight", "norm.bias"} if config["final_norm"] == "pooled" else set())
    if unexpected or set(missing) - allowed:
        raise ValueError(f"{name_or_path}: weights not mapped: missing {sorted(set(missing) - allowed)}, unexpected {unexpected}")
    return backbone
