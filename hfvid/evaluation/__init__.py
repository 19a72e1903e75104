"""Evaluation protocols: feature extraction, retrieval recall, kNN and linear probes, temporal tasks, plots."""

from hfvid.evaluation.features import extract_features
from hfvid.evaluation.plots import plot_confusion_matrix, plot_recall_curve, plot_training_loss
from hfvid.evaluation.probes import knn_accuracy, knn_classify, linear_probe
from hfvid.evaluation.report import compare_table, evaluate_datasets, evaluate_model, to_model_index, write_results
from hfvid.evaluation.retrieval import RECALL_KS, retrieval_recall, topk_cosine_neighbours

__all__ = [
    "RECALL_KS",
    "compare_table",
    "evaluate_datasets",
    "evaluate_model",
    "extract_features",
    "knn_accuracy",
    "knn_classify",
    "linear_probe",
    "plot_confusion_matrix",
    "plot_recall_curve",
    "plot_training_loss",
    "retrieval_recall",
    "to_model_index",
    "topk_cosine_neighbours",
    "write_results",
]
