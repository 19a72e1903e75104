"""MV-Former model configuration."""

from __future__ import annotations

from transformers import AutoConfig, PreTrainedConfig

from hfvid.models.configuration_utils import checked_augmentation

# A tiny randomly initialised image ViT, for CPU runs and tests (MV-Former's own encoder is a DINO ViT-B/8).
TINY_IMAGE_VIT = {"model_type": "vit", "hidden_size": 64, "num_hidden_layers": 4, "num_attention_heads": 4,
                  "intermediate_size": 128, "image_size": 32, "patch_size": 8}  # fmt: skip


class MVFormerConfig(PreTrainedConfig):
    r"""Configuration of MV-Former (multi-entity video transformer): a frozen image encoder, Learnable Spatial Token
    Pooling and a temporal transformer giving per-frame embeddings, trained with CARL's sequence contrastive loss.

    Args:
        image_encoder (`dict`, *optional*):
            The frozen image encoder's transformers config as a dict (with `model_type`: `vit`, `dinov2`, ...). Defaults
            to a tiny ViT for CPU runs. `MVFormerForPreTraining.from_image_encoder(name_or_path)` fills it from a
            pre-trained image model and loads its weights.
        image_encoder_name (`str`, *optional*):
            Where the encoder's weights came from (a Hub id or folder), for the model card.
        encoder_layers (`list[int]`, defaults to 3 layers spread over the depth, `[3, 7, 11]` of 12 as MV-Former):
            Hidden layers whose patch tokens are used (1-based, as in `hidden_states`), concatenated per patch.
        num_entity_tokens (`int`, defaults to 3):
            K, the learned queries of Learnable Spatial Token Pooling: K entity tokens per frame.
        hidden_size (`int`, defaults to 256): width of the pooled tokens and the temporal transformer.
        num_temporal_layers (`int`, defaults to 3), num_temporal_heads (`int`, defaults to 4): the temporal transformer
            over the K x T tokens.
        embedding_dim (`int`, defaults to 128): the per-frame embedding.
        projection_hidden_dim (`int`, defaults to 512): the projection head (embedding -> hidden -> embedding), for
            the loss only.
        max_frames (`int`, defaults to 80): the most frames the temporal position embedding covers.
        time_variance (`float`, defaults to 10.0), loss_temperature (`float`, defaults to 0.1): CARL's loss (the
            Gaussian's variance in frames^2; the similarity temperature).
        min_window (`float`, defaults to 0.5): each pre-training view samples its frames from a random window of at
            least this fraction of the video (CARL's time augmentation).
        num_frames (`int`, defaults to 16), image_size (`int`, defaults to 224): frames per pre-training view, their
            size. Evaluation may pass any number of frames up to `max_frames`.
        augmentation (`dict`, *optional*): pre-training augmentation settings of the video processor that differ from
            its defaults (`crop_scale`, `flip_p`, `color_jitter`, `color_jitter_p`, `grayscale_p`).
    """

    model_type = "mvformer"
    method_name = "MV-Former"

    def __init__(
        self,
        image_encoder: dict | None = None,
        image_encoder_name: str | None = None,
        encoder_layers: list[int] | None = None,
        num_entity_tokens: int = 3,
        hidden_size: int = 256,
        num_temporal_layers: int = 3,
        num_temporal_heads: int = 4,
        embedding_dim: int = 128,
        projection_hidden_dim: int = 512,
        max_frames: int = 80,
        time_variance: float = 10.0,
        loss_temperature: float = 0.1,
        min_window: float = 0.5,
        num_frames: int = 16,
        image_size: int = 224,
        augmentation: dict | None = None,
        classifier_dropout: float = 0.0,
        **kwargs,
    ):
        self.image_encoder = dict(image_encoder or TINY_IMAGE_VIT)
        if "model_type" not in self.image_encoder:
            raise ValueError("image_encoder must be a transformers config dict with its model_type (e.g. 'vit')")
        depth = self.encoder_config().num_hidden_layers
        self.encoder_layers = list(encoder_layers) if encoder_layers is not None else sorted({max(1, depth // 4), depth // 2 + 1, depth - 1})
        if not self.encoder_layers or not all(1 <= layer <= depth for layer in self.encoder_layers):
            raise ValueError(f"encoder_layers must be hidden layers 1..{depth} of the image encoder, got {self.encoder_layers}")
        if hidden_size % num_temporal_heads:
            raise ValueError(f"hidden_size {hidden_size} must be divisible by num_temporal_heads {num_temporal_heads}")
        if num_frames > max_frames:
            raise ValueError(f"num_frames {num_frames} exceeds max_frames {max_frames}")
        if not 0 < min_window <= 1:
            raise ValueError(f"min_window must be in (0, 1], got {min_window}")
        self.image_encoder_name = image_encoder_name
        self.num_entity_tokens = num_entity_tokens
        self.hidden_size = hidden_size
        self.num_temporal_layers = num_temporal_layers
        self.num_temporal_heads = num_temporal_heads
        self.embedding_dim = embedding_dim
        self.projection_hidden_dim = projection_hidden_dim
        self.max_frames = max_frames
        self.time_variance = time_variance
        self.loss_temperature = loss_temperature
        self.min_window = min_window
        self.num_frames = num_frames
        self.image_size = image_size
        self.augmentation = checked_augmentation(augmentation)
        self.classifier_dropout = classifier_dropout
        super().__init__(**kwargs)

    def encoder_config(self):
        """The frozen image encoder's transformers config object."""
        fields = dict(self.image_encoder)
        return AutoConfig.for_model(fields.pop("model_type"), **fields)

    def describe_encoder(self) -> str:
        """One line for model cards."""
        encoder = self.encoder_config()
        source = f" ({self.image_encoder_name})" if self.image_encoder_name else " (randomly initialised)"
        return (
            f"frozen {encoder.model_type} image encoder{source}, patch tokens of layers {self.encoder_layers}; "
            f"{self.num_entity_tokens} entity tokens per frame; a {self.num_temporal_layers}-layer temporal "
            f"transformer of width {self.hidden_size}; {self.embedding_dim}-d frame embeddings"
        )


MVFORMER_PRESETS = {
    "mvformer-vit-tiny": {"image_encoder": TINY_IMAGE_VIT, "encoder_layers": [2, 3, 4], "hidden_size": 64,
                          "num_temporal_layers": 2, "num_temporal_heads": 4, "embedding_dim": 32,
                          "projection_hidden_dim": 64, "num_frames": 16, "image_size": 32, "max_frames": 64,
                          "time_variance": 10.0, "augmentation": {"crop_scale": [0.6, 1.0], "flip_p": 0.0}},
}  # fmt: skip
