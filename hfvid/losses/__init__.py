"""Self-supervised losses as pure functions of tensors."""

from hfvid.losses.contrastive import (
    info_nce_loss,
    negative_cosine_similarity,
    nt_xent_loss,
    rank_temperatures,
    rince_loss,
)
from hfvid.losses.predictive import feature_prediction_loss
from hfvid.losses.ranking import transformation_accuracy, transformation_cross_entropy, transformation_ranking_loss

__all__ = [
    "feature_prediction_loss",
    "info_nce_loss",
    "negative_cosine_similarity",
    "nt_xent_loss",
    "rank_temperatures",
    "rince_loss",
    "transformation_accuracy",
    "transformation_cross_entropy",
    "transformation_ranking_loss",
]
