"""Evaluation protocols: feature extraction, retrieval recall, kNN and linear probes, temporal tasks, plots."""

from hfvid.evaluation.plots import plot_confusion_matrix, plot_recall_curve, plot_training_loss
from hfvid.evaluation.probes import knn_accuracy, knn_classify, linear_probe
from hfvid.evaluation.retrieval import RECALL_KS, retrieval_recall, topk_cosine_neighbours

__all__ = [
    "RECALL_KS",
    "knn_accuracy",
    "knn_classify",
    "linear_probe",
    "plot_confusion_matrix",
    "plot_recall_curve",
    "plot_training_loss",
    "retrieval_recall",
    "topk_cosine_neighbours",
]
