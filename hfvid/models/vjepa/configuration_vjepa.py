"""V-JEPA pre-training configuration: transformers' own `VJEPA2Config` plus the masks, the EMA target and the loss."""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import VJEPA2Config


@strict
class VJEPAPreTrainingConfig(VJEPA2Config):
    r"""transformers' `VJEPA2Config` (model type ``vjepa2``: encoder, predictor, attentive pooler of the classifier)
    with V-JEPA's pre-training recipe. A saved model's ``config.json`` is a plain ``vjepa2`` config (the fields below
    ride along as attributes). ``num_frames`` and ``image_size`` are hfvid's names of ``frames_per_clip`` and
    ``crop_size``.

    Args:
        short_range_blocks, short_range_scale (`int`, `float`, defaults to 8, 0.15):
            The short-range target mask: the union of this many blocks, each this share of the frame's area and
            spanning every time step (V-JEPA's ``configs/pretrain``: 8 blocks at 0.15).
        long_range_blocks, long_range_scale (`int`, `float`, defaults to 2, 0.7):
            The long-range target mask (V-JEPA: 2 blocks at 0.7). Each mask's context is its complement; the
            context encoder sees only the context tokens, the predictor fills in the target tokens.
        ema_momentum, ema_momentum_end (`float`, defaults to 0.998, 1.0):
            The target encoder is an exponential moving average of the context encoder, its momentum raised
            linearly from ``ema_momentum`` to ``ema_momentum_end`` over training (V-JEPA's ``ema: [0.998, 1.0]``)
            by the per-step hook. The target encoder is the one saved as the ``vjepa2`` encoder (V-JEPA evaluates
            its target encoder).
        loss_exponent (`float`, defaults to 1.0):
            The loss is mean(|prediction - target| ** p) / p over the target tokens, the targets the target
            encoder's tokens after a layer norm without parameters; V-JEPA's p = 1 is an L1 loss.
        kwargs: the fields of `VJEPA2Config` (encoder and predictor sizes, ``patch_size``, ``tubelet_size``,
            ``frames_per_clip``, ``crop_size``).
    """

    short_range_blocks: int = 8
    short_range_scale: float = 0.15
    long_range_blocks: int = 2
    long_range_scale: float = 0.7
    ema_momentum: float = 0.998
    ema_momentum_end: float = 1.0
    loss_exponent: float = 1.0
    attribute_map = {"num_frames": "frames_per_clip", "image_size": "crop_size"}
    method_name = "V-JEPA"
    transformers_native = True  # a saved folder is a plain transformers checkpoint (model cards: library transformers)

    def validate_recipe(self):
        for name in ("short_range_scale", "long_range_scale"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        if self.short_range_blocks < 1 or self.long_range_blocks < 1:
            raise ValueError("a target mask needs at least one block")
        if not 0.0 <= self.ema_momentum <= self.ema_momentum_end <= 1.0:
            raise ValueError(f"need 0 <= ema_momentum <= ema_momentum_end <= 1, got {self.ema_momentum}, {self.ema_momentum_end}")
        if self.loss_exponent <= 0:
            raise ValueError(f"loss_exponent must be > 0, got {self.loss_exponent}")
        if self.frames_per_clip % self.tubelet_size or self.crop_size % self.patch_size:
            raise ValueError(
                f"frames_per_clip ({self.frames_per_clip}) must be a multiple of tubelet_size ({self.tubelet_size}) "
                f"and crop_size ({self.crop_size}) of patch_size ({self.patch_size})"
            )

    @property
    def token_grid(self) -> tuple[int, int, int]:
        """(time steps, patch rows, patch columns) of a clip."""
        side = self.crop_size // self.patch_size
        return self.frames_per_clip // self.tubelet_size, side, side

    @property
    def target_mask_blocks(self) -> dict[str, tuple[int, float]]:
        """The target masks: name -> (blocks, scale)."""
        return {
            "short_range": (self.short_range_blocks, self.short_range_scale),
            "long_range": (self.long_range_blocks, self.long_range_scale),
        }

    def describe_encoder(self) -> str:
        """The encoder in words, for model cards."""
        return (
            f"V-JEPA 2 ViT encoder with 3D rotary positions ({self.num_hidden_layers} blocks, hidden size "
            f"{self.hidden_size}, {self.tubelet_size}x{self.patch_size}x{self.patch_size} tubelets)"
        )


VJEPA_PRESETS = {
    # The sizes of hfvid's vit_tiny backbone (CPU tests and the SynthMotion benchmark): 8 frames at 32 px, 64 tokens.
    "vjepa-vit-tiny": {
        "crop_size": 32, "frames_per_clip": 8, "patch_size": 8, "tubelet_size": 2, "hidden_size": 64,
        "num_hidden_layers": 4, "num_attention_heads": 4, "pred_hidden_size": 32, "pred_num_hidden_layers": 2,
        "pred_num_attention_heads": 2, "pred_num_mask_tokens": 2, "num_pooler_layers": 1,
    },  # fmt: skip
    # V-JEPA's ViT-L/16 (16 frames at 224 px, a 12-block predictor 384 wide) and a ViT-B/16 of the same recipe.
    "vjepa-vit-b": {"crop_size": 224, "frames_per_clip": 16, "hidden_size": 768, "num_hidden_layers": 12,
                    "num_attention_heads": 12, "pred_num_attention_heads": 12},
    "vjepa-vit-l": {"crop_size": 224, "frames_per_clip": 16, "pred_num_attention_heads": 12},
}  # fmt: skip
