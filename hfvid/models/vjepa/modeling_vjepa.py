"""V-JEPA pre-training of transformers' own V-JEPA 2 encoder and predictor.

`VJEPAForPreTraining` holds ``vjepa2``, transformers' `VJEPA2Model` (the target encoder and the predictor), and
``context_encoder``, a second `VJEPA2Encoder`. For each target mask of a video (the processor's ``target_masks``:
short-range and long-range multi-block masks), the context encoder sees only the context tokens (the mask's
complement, with their own 3D rotary positions), the predictor fills in the target tokens from them, and the loss is
mean(|prediction - target| ** p) / p against the target encoder's tokens of the whole clip, layer-normed and without
gradient. The target encoder follows the context encoder as an exponential moving average (`after_optimizer_step`),
starting as its copy at the first training step. Saved, the folder is a plain ``vjepa2`` checkpoint whose encoder is
the target encoder (what V-JEPA evaluates): `VJEPA2Model.from_pretrained` loads it without hfvid.

Where the batch's masks keep different numbers of tokens, each video's context and target are cut to the batch's
smallest count, keeping the first tokens in space-time order, as V-JEPA's mask collator does. transformers' predictor
uses one mask token for every target mask (V-JEPA: one per mask kind).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers import VJEPA2ForVideoClassification, VJEPA2Model
from transformers.models.vjepa2.modeling_vjepa2 import VJEPA2Encoder, VJEPA2PreTrainedModel
from transformers.utils import ModelOutput

from .configuration_vjepa import VJEPAPreTrainingConfig


@dataclass
class VJEPAForPreTrainingOutput(ModelOutput):
    """Output of `VJEPAForPreTraining`.

    Args:
        loss: the mean of ``losses`` over the target masks.
        losses: target mask name -> its loss, mean(|prediction - target| ** p) / p over the target tokens.
        predictions: target mask name -> (batch, target tokens, hidden) predicted target tokens.
        hidden_states: with ``output_hidden_states``, the target encoder's token embeddings and block outputs of the
            whole clip, each (batch, tokens, hidden) (the targets are the last one, layer-normed).
    """

    loss: torch.FloatTensor | None = None
    losses: dict[str, torch.Tensor] | None = None
    predictions: dict[str, torch.Tensor] | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None


def kept_indices(mask: torch.Tensor) -> torch.Tensor:
    """(batch, tokens) bool -> (batch, k) the positions where each row is True, ascending, cut to the batch's
    smallest count k. Raises ValueError when a row keeps none."""
    counts = mask.sum(dim=1)
    if (counts == 0).any():
        raise ValueError("a mask keeps no token (an empty context or target)")
    keep = int(counts.min())
    # A stable sort of ~mask puts each row's True positions first, in ascending order.
    return torch.sort((~mask).to(torch.uint8), dim=1, stable=True).indices[:, :keep]


def gather_tokens(tokens: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """(batch, tokens, dim) at (batch, k) positions -> (batch, k, dim)."""
    return tokens.gather(1, indices.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]))


class VJEPAForPreTraining(VJEPA2PreTrainedModel):
    """Context encoder + transformers' `VJEPA2Model` (EMA target encoder and predictor)."""

    config: VJEPAPreTrainingConfig
    config_class = VJEPAPreTrainingConfig

    def __init__(self, config: VJEPAPreTrainingConfig):
        super().__init__(config)
        self.context_encoder = VJEPA2Encoder(config)  # first: the trained encoder is the model's first module
        self.vjepa2 = VJEPA2Model(config)
        self.vjepa2.encoder.requires_grad_(False)
        # Whether the target encoder has been started as a copy of the context encoder (the first training step).
        self.register_buffer("ema_started", torch.zeros((), dtype=torch.bool))
        self.post_init()

    def _init_weights(self, module):
        super()._init_weights(module)
        if module is self:
            self.ema_started.zero_()

    @torch.no_grad()
    def _start_target_encoder(self) -> None:
        for target, online in zip(self.vjepa2.encoder.parameters(), self.context_encoder.parameters()):
            target.copy_(online)
        self.ema_started.fill_(True)

    @torch.no_grad()
    def after_optimizer_step(self, step: int, total_steps: int | None = None) -> None:
        """The EMA update of the target encoder, its momentum raised linearly over the run."""
        if not self.ema_started:
            return
        start, end = self.config.ema_momentum, self.config.ema_momentum_end
        momentum = end if not total_steps else start + (end - start) * min(step / total_steps, 1.0)
        target = list(self.vjepa2.encoder.parameters())
        torch._foreach_lerp_(target, list(self.context_encoder.parameters()), 1.0 - momentum)

    def encode_context(self, tokens: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """The context encoder's blocks on the context tokens only, each at its own position."""
        hidden = gather_tokens(tokens, context)
        for layer in self.context_encoder.layer:
            hidden = layer(hidden, position_mask=context)[0]
        return self.context_encoder.layernorm(hidden)

    @torch.no_grad()
    def encode_targets(self, pixel_values_videos: torch.Tensor, output_hidden_states: bool | list[int] = False):
        """The target encoder on the whole clip: (its layer-normed last tokens, its hidden states or None). A list of
        indices for ``output_hidden_states`` keeps those hidden states and gives None for the others, as transformers'
        models do."""
        encoder = self.vjepa2.encoder
        hidden = encoder.embeddings(pixel_values_videos)
        states = [hidden]
        for layer in encoder.layer:
            hidden = layer(hidden)[0]
            states.append(hidden)
        hidden = encoder.layernorm(hidden)
        if isinstance(output_hidden_states, (list, tuple)):
            kept = {index % len(states) for index in output_hidden_states}
            states = [state if index in kept else None for index, state in enumerate(states)]
        return F.layer_norm(hidden, hidden.shape[-1:]), tuple(states) if output_hidden_states else None

    def forward(
        self,
        pixel_values_videos: torch.Tensor,
        target_masks: torch.Tensor,
        output_hidden_states: bool | list[int] | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ):
        """pixel_values_videos: (batch, frames, channels, height, width); target_masks: (batch, masks, tokens) bool,
        True where a token is a prediction target, in the order of ``config.target_mask_blocks``."""
        names = list(self.config.target_mask_blocks)
        if target_masks.ndim != 3 or target_masks.shape[1] != len(names):
            raise ValueError(f"target_masks must be (batch, {len(names)} masks: {', '.join(names)}, tokens), got {tuple(target_masks.shape)}")
        if self.training and not self.ema_started:
            self._start_target_encoder()
        target_masks = target_masks.bool()
        if output_hidden_states is None:
            output_hidden_states = self.config.output_hidden_states
        targets, hidden_states = self.encode_targets(pixel_values_videos, output_hidden_states)
        if target_masks.shape[2] != targets.shape[1]:
            raise ValueError(f"target_masks cover {target_masks.shape[2]} tokens, the clip has {targets.shape[1]}")
        tokens = self.context_encoder.embeddings(pixel_values_videos)
        losses, predictions = {}, {}
        power = self.config.loss_exponent
        for index, name in enumerate(names):
            context, target = kept_indices(~target_masks[:, index]), kept_indices(target_masks[:, index])
            encoded = self.encode_context(tokens, context)
            # The predictor gathers the context from a full-length sequence at the context positions.
            full = encoded.new_zeros(tokens.shape).scatter(1, context.unsqueeze(-1).expand_as(encoded), encoded)
            predicted = self.vjepa2.predictor(full, context_mask=[context], target_mask=[target]).last_hidden_state
            losses[name] = (predicted - gather_tokens(targets, target)).abs().pow(power).mean() / power
            predictions[name] = predicted
        loss = torch.stack(list(losses.values())).mean()
        output = VJEPAForPreTrainingOutput(loss=loss, losses=losses, predictions=predictions, hidden_states=hidden_states)
        return output.to_tuple() if return_dict is False else output


AUTO_CLASSES = {
    "AutoConfig": VJEPAPreTrainingConfig,
    "AutoModel": VJEPA2Model,
    "AutoModelForPreTraining": VJEPAForPreTraining,
    "AutoModelForVideoClassification": VJEPA2ForVideoClassification,
}
