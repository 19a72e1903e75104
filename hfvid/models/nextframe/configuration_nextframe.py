"""Next-frame prediction model configuration."""

from __future__ import annotations

from hfvid.models.configuration_utils import NO_AUGMENTATION, HfvidConfig, vit_presets


class NextFrameConfig(HfvidConfig):
    r"""Configuration of a next-frame prediction model: the backbone encodes a clip of ``num_frames`` frames into
    its pooled feature vector (the "motion code"); a small convolutional decoder gets the clip's last frame and that
    code, and predicts the next frame's difference from the last one. The decoder sees one frame, so the motion can
    only reach it through the code.

    Args:
        decoder_width (`int`, defaults to 32):
            Channels of the decoder's hidden 3x3 convolutions.
        decoder_layers (`int`, defaults to 3):
            Hidden convolutions of the decoder (each followed by FiLM from the code and GELU), before the output
            convolution.
        kwargs: the fields of `HfvidConfig` (backbone, num_frames, image_size, classifier_dropout, augmentation: one
            draw for the clip and its next frame).
    """

    method_name = "NextFrame"
    model_type = "nextframe"

    def __init__(self, decoder_width: int = 32, decoder_layers: int = 3, **kwargs):
        if decoder_width < 1 or decoder_layers < 1:
            raise ValueError(f"decoder_width and decoder_layers must be >= 1, got {decoder_width} and {decoder_layers}")
        self.decoder_width = decoder_width
        self.decoder_layers = decoder_layers
        super().__init__(**kwargs)


NEXTFRAME_PRESETS = {
    "nextframe-r3d18": {"backbone": "r3d_18"},
    "nextframe-r2plus1d18": {"backbone": "r2plus1d_18"},
    # The tiny preset is the benchmark loop's recipe (benchmarks/bench_motion_prediction.py, docs/learning.md session
    # 14): frame differences into the backbone, whole frames, no flips or colour changes.
    "nextframe-r3d18-tiny": {
        "backbone": "r3d_tiny_diff",
        "augmentation": NO_AUGMENTATION,
        "num_frames": 8,
        "image_size": 32,
    },
}
NEXTFRAME_PRESETS.update(vit_presets(NEXTFRAME_PRESETS, "nextframe"))
