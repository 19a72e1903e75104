"""Self-supervised losses as pure functions of tensors."""

from hfvid.losses.ranking import transformation_accuracy, transformation_cross_entropy, transformation_ranking_loss

__all__ = ["transformation_accuracy", "transformation_cross_entropy", "transformation_ranking_loss"]
