"""Self-supervised losses as pure functions of tensors."""

from hfvid.losses.contrastive import (
    info_nce_loss,
    negative_cosine_similarity,
    nt_xent_loss,
    rank_temperatures,
    rince_loss,
)
from hfvid.losses.ranking import transformation_accuracy, transformation_cross_entropy, transformation_ranking_loss

__all__ = [
    "info_nce_loss",
    "negative_cosine_similarity",
    "nt_xent_loss",
    "rank_temperatures",
    "rince_loss",
    "transformation_accuracy",
    "transformation_cross_entropy",
    "transformation_ranking_loss",
]
