"""MV-Former (Walmer et al., "Multi-entity Video Transformers for Fine-Grained Video Representation Learning", 2023): per-frame video representations on top of a frozen self-supervised image
encoder. Each frame's patch tokens from a few encoder layers (concatenated per patch) are pooled into K entity tokens
by Learnable Spatial Token Pooling (K learned queries, one cross-attention head); a temporal transformer runs over
the K x T tokens (learned time and entity embeddings); each frame's embedding is the mean of its K tokens, projected.
Pre-training: CARL's sequence contrastive loss between two views of a video with different frame sampling
(`hfvid.losses.sequence.sequence_contrastive_loss`), through a projection head.

Frozen means frozen: the encoder's parameters need no gradient, it runs under `torch.no_grad()` and stays in eval
mode when the model trains.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import AutoModel, PreTrainedModel
from transformers import initialization as init
from transformers.modeling_outputs import BaseModelOutputWithPooling
from transformers.utils import ModelOutput

from hfvid.losses.sequence import sequence_contrastive_loss
from hfvid.models.modeling_utils import SavesItsCode, check_video_input

from .configuration_mvformer import MVFormerConfig


@dataclass
class MVFormerForPreTrainingOutput(ModelOutput):
    """Output of `MVFormerForPreTraining`.

    Args:
        loss: CARL's loss between the two views (KL divergence, >= 0).
        frame_embeddings: (batch, 2, frames, embedding_dim) per-frame embeddings of both views.
        pooler_output: (batch, 2, embedding_dim) their means over time.
        hidden_states: with ``output_hidden_states``, the temporal transformer's input and each layer's output for the
            clips of both views (batch * 2, frames * K, hidden).
    """

    loss: torch.FloatTensor | None = None
    frame_embeddings: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class MVFormerModelOutput(BaseModelOutputWithPooling):
    """Output of `MVFormerModel`: ``last_hidden_state`` (batch, frames, embedding_dim) per-frame embeddings,
    ``pooler_output`` their mean over time, ``hidden_states`` (with ``output_hidden_states``) the temporal transformer's,
    and ``image_features`` (batch, frames, encoder width x layers): the frozen encoder's own patch tokens of the chosen
    layers, mean-pooled per frame (the baseline MV-Former is compared with: `--feature image_features`)."""

    image_features: torch.FloatTensor | None = None


class MVFormerPreTrainedModel(SavesItsCode, PreTrainedModel):
    config: MVFormerConfig
    config_class = MVFormerConfig
    base_model_prefix = "mvformer"
    main_input_name = "pixel_values_videos"
    input_modalities = "video"
    supports_gradient_checkpointing = False
    # Loading a pre-training checkpoint as the model alone leaves the projection head out.
    _keys_to_ignore_on_load_unexpected = [r"^projection\."]
    _supports_sdpa = True  # the frozen encoder's attention (ViT, DINOv2, ...); the rest is torch's own modules

    def _init_weights(self, module):
        """The frozen encoder's modules as its own class initialises them; linear layers N(0, 0.02), layer norms
        identity, the queries and embeddings N(0, 0.02)."""
        if isinstance(module, nn.Linear):
            init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, MVFormerTemporalModel):
            init.normal_(module.queries, std=0.02)
            init.normal_(module.time_embeddings, std=0.02)
            init.normal_(module.entity_embeddings, std=0.02)


class MVFormerTemporalModel(nn.Module):
    """Everything after the frozen encoder: layer tokens -> LSTP -> temporal transformer -> frame embeddings."""

    def __init__(self, config: MVFormerConfig, encoder_width: int):
        super().__init__()
        hidden = config.hidden_size
        self.token_projection = nn.Linear(encoder_width * len(config.encoder_layers), hidden)
        self.queries = nn.Parameter(torch.zeros(config.num_entity_tokens, hidden))
        self.pooling = nn.MultiheadAttention(hidden, num_heads=1, batch_first=True)
        self.time_embeddings = nn.Parameter(torch.zeros(config.max_frames, hidden))
        self.entity_embeddings = nn.Parameter(torch.zeros(config.num_entity_tokens, hidden))
        layer = nn.TransformerEncoderLayer(hidden, config.num_temporal_heads, 4 * hidden, dropout=0.0,
                                           batch_first=True, norm_first=True)  # fmt: skip
        self.temporal = nn.TransformerEncoder(layer, config.num_temporal_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(hidden)
        self.embedding = nn.Linear(hidden, config.embedding_dim)

    def forward(self, patch_tokens: torch.Tensor, batch: int, frames: int) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """(batch * frames, patches, encoder_width * layers) -> (the frame embeddings (batch, frames, embedding_dim),
        the temporal transformer's input and each layer's output (batch, frames * K, hidden))."""
        tokens = self.token_projection(patch_tokens)
        queries = self.queries.expand(tokens.shape[0], -1, -1)
        entities, _ = self.pooling(queries, tokens, tokens, need_weights=False)  # (B*T, K, hidden)
        entities = entities.unflatten(0, (batch, frames))
        hidden = (entities + self.time_embeddings[:frames, None] + self.entity_embeddings).flatten(1, 2)
        hidden_states = [hidden]
        for layer in self.temporal.layers:
            hidden = layer(hidden)
            hidden_states.append(hidden)
        hidden = hidden.unflatten(1, (frames, -1))  # (B, T, K, hidden)
        return self.embedding(self.norm(hidden.mean(dim=2))), tuple(hidden_states)


class MVFormerModel(MVFormerPreTrainedModel):
    """Frozen image encoder + LSTP + temporal transformer: video -> per-frame embeddings (``last_hidden_state``,
    (batch, frames, embedding_dim)) and their mean (``pooler_output``). What `AutoModel` returns."""

    def __init__(self, config: MVFormerConfig):
        super().__init__(config)
        # The encoder follows the model's attention implementation (eager, sdpa), as a composite model's parts do.
        self.image_encoder = AutoModel.from_config(config.encoder_config(), attn_implementation=config._attn_implementation)
        self.image_encoder.requires_grad_(False)
        self.temporal_model = MVFormerTemporalModel(config, self.image_encoder.config.hidden_size)
        self.post_init()

    def train(self, mode: bool = True):
        super().train(mode)
        self.image_encoder.eval()  # frozen: its dropout and norms stay in inference mode
        return self

    def get_input_embeddings(self) -> nn.Module:
        """The frozen image encoder's patch embedding."""
        return self.image_encoder.get_input_embeddings()

    def patch_tokens(self, frames: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> the frozen encoder's patch tokens of ``config.encoder_layers``, concatenated per patch
        (N, patches, width * layers); prefix tokens (CLS, registers) dropped: the patches are the last
        (H / patch) x (W / patch) tokens at the frames' own size."""
        patch = self.image_encoder.config.patch_size
        num_patches = (frames.shape[-2] // patch) * (frames.shape[-1] // patch)
        with torch.no_grad():
            hidden_states = self.image_encoder(pixel_values=frames, output_hidden_states=True).hidden_states
        return torch.cat([hidden_states[layer][:, -num_patches:] for layer in self.config.encoder_layers], dim=-1)

    def frame_features(self, pixel_values_videos: torch.Tensor) -> torch.Tensor:
        """(batch, frames, C, H, W) -> per-frame embeddings (batch, frames, embedding_dim): what frame-level
        evaluation reads."""
        return self._encode(pixel_values_videos)[0]

    def _encode(self, pixel_values_videos: torch.Tensor):
        """(frame embeddings, the temporal transformer's hidden states, the encoder's mean-pooled patch features per
        frame)."""
        check_video_input(pixel_values_videos)
        batch, frames = pixel_values_videos.shape[:2]
        if frames > self.config.max_frames:
            raise ValueError(f"{frames} frames exceed the model's max_frames ({self.config.max_frames})")
        tokens = self.patch_tokens(pixel_values_videos.flatten(0, 1))
        embeddings, hidden_states = self.temporal_model(tokens, batch, frames)
        return embeddings, hidden_states, tokens.mean(dim=1).unflatten(0, (batch, frames))

    def forward(
        self, pixel_values_videos: torch.Tensor, output_hidden_states: bool | None = None, return_dict: bool | None = None, **kwargs
    ):
        """(batch, frames, C, H, W) -> `MVFormerModelOutput`: per-frame embeddings, their mean, the frozen encoder's
        mean-pooled patch features per frame; with ``output_hidden_states``, the temporal transformer's input and each
        layer's output (batch, frames * K, hidden)."""
        if output_hidden_states is None:
            output_hidden_states = self.config.output_hidden_states
        embeddings, hidden_states, image_features = self._encode(pixel_values_videos)
        output = MVFormerModelOutput(last_hidden_state=embeddings, pooler_output=embeddings.mean(dim=1),
                                     hidden_states=hidden_states if output_hidden_states else None,
                                     image_features=image_features)  # fmt: skip
        return output.to_tuple() if return_dict is False else output


class MVFormerForPreTraining(MVFormerPreTrainedModel):
    """MV-Former + projection head, trained with CARL's loss: ``forward(pixel_values_videos (batch, 2, frames, C, H,
    W), timestamps (batch, 2, frames))`` (the two views' frames and where each sits in its video, in frames)."""

    def __init__(self, config: MVFormerConfig):
        super().__init__(config)
        self.mvformer = MVFormerModel(config)
        self.projection = nn.Sequential(
            nn.Linear(config.embedding_dim, config.projection_hidden_dim),
            nn.ReLU(),
            nn.Linear(config.projection_hidden_dim, config.embedding_dim),
        )
        self.post_init()

    @classmethod
    def from_image_encoder(cls, name_or_path: str, **config_kwargs) -> MVFormerForPreTraining:
        """A new MV-Former on a pre-trained image encoder (a Hub id or folder of any transformers image model: ViT,
        DINOv2, ...): its config and weights; the rest randomly initialised."""
        encoder = AutoModel.from_pretrained(name_or_path)
        config = MVFormerConfig(image_encoder=encoder.config.to_diff_dict() | {"model_type": encoder.config.model_type},
                                image_encoder_name=str(name_or_path), **config_kwargs)  # fmt: skip
        model = cls(config)
        model.mvformer.image_encoder.load_state_dict(encoder.state_dict())
        return model

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        timestamps: torch.Tensor,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """pixel_values_videos (batch, 2, frames, C, H, W), timestamps (batch, 2, frames) -> CARL's ``loss``, the
        ``frame_embeddings`` of both views and their means; with ``output_hidden_states``, the temporal transformer's
        hidden states of both views' clips (view after view within each video)."""
        if output_hidden_states is None:
            output_hidden_states = self.config.output_hidden_states
        check_video_input(pixel_values_videos, clips_per_video=2)
        if timestamps.shape != pixel_values_videos.shape[:3]:
            raise ValueError(f"timestamps must be (batch, 2, frames), got {tuple(timestamps.shape)}")
        batch = pixel_values_videos.shape[0]
        embeddings, hidden_states, _ = self.mvformer._encode(pixel_values_videos.flatten(0, 1))
        embeddings = embeddings.unflatten(0, (batch, 2))
        projected = self.projection(embeddings)
        loss = sequence_contrastive_loss(projected[:, 0], projected[:, 1], timestamps[:, 0], timestamps[:, 1],
                                         variance=self.config.time_variance, temperature=self.config.loss_temperature)  # fmt: skip
        output = MVFormerForPreTrainingOutput(loss=loss, frame_embeddings=embeddings, pooler_output=embeddings.mean(dim=2),
                                              hidden_states=hidden_states if output_hidden_states else None)  # fmt: skip
        return output.to_tuple() if return_dict is False else output


AUTO_CLASSES = {
    "AutoConfig": MVFormerConfig,
    "AutoModel": MVFormerModel,
    "AutoModelForPreTraining": MVFormerForPreTraining,
}
