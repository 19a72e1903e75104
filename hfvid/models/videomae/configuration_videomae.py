"""VideoMAE pre-training configuration: transformers' own `VideoMAEConfig` plus the masking recipe."""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import VideoMAEConfig

MASKINGS = ("tube", "random")


@strict
class VideoMAEPreTrainingConfig(VideoMAEConfig):
    r"""transformers' `VideoMAEConfig` (model type ``videomae``) with the two settings of VideoMAE's masking, which
    transformers leaves to the caller. A saved model's ``config.json`` is a plain ``videomae`` config: transformers
    loads it as `VideoMAEConfig` (the two fields ride along as attributes), with or without hfvid.

    Args:
        mask_ratio (`float`, defaults to 0.9):
            Share of the space-time tokens hidden from the encoder, whose pixels the decoder reconstructs (VideoMAE:
            0.9 on Kinetics and SSv2).
        masking (`str`, defaults to `"tube"`):
            `"tube"` (VideoMAE: the same spatial positions at every time step, so a masked patch cannot be copied
            from the next frame) or `"random"` (any tokens); see `hfvid.data.masks`.
        kwargs: the fields of `VideoMAEConfig` (encoder and decoder sizes, ``patch_size``, ``tubelet_size``,
            ``num_frames``, ``image_size``, ``norm_pix_loss``: the loss on per-patch normalised pixels, VideoMAE's
            default).
    """

    mask_ratio: float = 0.9
    masking: str = "tube"
    method_name = "VideoMAE"
    transformers_native = True  # a saved folder is a plain transformers checkpoint (model cards: library transformers)

    def validate_masking(self):
        if not 0.0 < self.mask_ratio < 1.0:
            raise ValueError(f"mask_ratio must be in (0, 1), got {self.mask_ratio}")
        if self.masking not in MASKINGS:
            raise ValueError(f"masking must be one of {MASKINGS}, got {self.masking!r}")
        if self.num_frames % self.tubelet_size or self.image_size % self.patch_size:
            raise ValueError(
                f"num_frames ({self.num_frames}) must be a multiple of tubelet_size ({self.tubelet_size}) and "
                f"image_size ({self.image_size}) of patch_size ({self.patch_size})"
            )

    @property
    def token_grid(self) -> tuple[int, int, int]:
        """(time steps, patch rows, patch columns) of a clip."""
        side = self.image_size // self.patch_size
        return self.num_frames // self.tubelet_size, side, side

    def describe_encoder(self) -> str:
        """The encoder in words, for model cards."""
        return (
            f"VideoMAE ViT encoder ({self.num_hidden_layers} blocks, hidden size {self.hidden_size}, "
            f"{self.tubelet_size}x{self.patch_size}x{self.patch_size} tubelets)"
        )


_TINY_DECODER = {"decoder_hidden_size": 32, "decoder_num_hidden_layers": 1, "decoder_num_attention_heads": 2,
                 "decoder_intermediate_size": 64}  # fmt: skip
VIDEOMAE_PRESETS = {
    # The sizes of hfvid's vit_tiny backbone (CPU tests and the SynthMotion benchmark): 8 frames at 32 px, 64 tokens.
    # With 16 spatial positions, 0.75 leaves 4 visible tubes (0.9 would leave 2).
    "videomae-vit-tiny": {
        "image_size": 32, "num_frames": 8, "patch_size": 8, "tubelet_size": 2, "hidden_size": 64,
        "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 256, "mask_ratio": 0.75,
        **_TINY_DECODER,
    },  # fmt: skip
    # VideoMAE's ViT-S/16 and ViT-B/16 (16 frames at 224 px, decoder of 4 blocks, 384 wide).
    "videomae-vit-s": {"hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 6, "intermediate_size": 1536,
                       "decoder_hidden_size": 192, "decoder_num_attention_heads": 3, "decoder_intermediate_size": 768},
    "videomae-vit-b": {},
}  # fmt: skip
