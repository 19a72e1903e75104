"""Evaluation report: every protocol on the tiny SynthMotion set, the written files, the comparison table,
and a model-index that huggingface_hub reads back unchanged."""

from __future__ import annotations

import json

import pytest
import torch
from huggingface_hub import ModelCard, ModelCardData
from huggingface_hub.repocard_data import eval_results_to_model_index, model_index_to_eval_results

import hfvid
from hfvid.data.synthetic import SYNTHMOTION_CLASSES, load_synthmotion
from hfvid.evaluation import features as features_module
from hfvid.evaluation.report import (
    FRAME_METRICS,
    METRIC_NAMES,
    chance_levels,
    compare_table,
    evaluate_datasets,
    evaluate_model,
    evaluate_models,
    paired_summary,
    to_model_index,
    write_comparison,
    write_results,
)
from hfvid.models.transrank import TransRankModel, TransRankVideoProcessor

# every clip-level frozen-feature metric (fine-tuning is evaluate.py's option; frame-level ones need frame labels)
ALL_METRICS = set(METRIC_NAMES) - {"finetune_top1", *FRAME_METRICS}


@pytest.fixture(scope="module")
def tiny_model():
    config = hfvid.get_config("transrank-r3d18-tiny")
    torch.manual_seed(0)
    return TransRankModel(config), TransRankVideoProcessor.from_model_config(config)


@pytest.fixture(scope="module")
def results(tiny_model, synthmotion_dir, tmp_path_factory):
    model, processor = tiny_model
    cache_dir = tmp_path_factory.mktemp("feature_cache")
    return evaluate_model(model, processor, synthmotion_dir, cache_dir=cache_dir, progress=False)


def test_evaluate_model_runs_every_protocol(results):
    # 2 training videos per class of 16: R@5 and beyond find the class by chance more than half the time.
    assert set(results["metrics"]) == ALL_METRICS - {"R@5", "R@10", "R@20", "R@50"}
    assert results["chance"] == {
        "R@1": 2 / 16, "knn_top1": 1 / 8, "nn_top1": 1 / 8, "linear_top1": 1 / 8, "attentive_top1": 1 / 8,
        "motion_top1": results["metrics"]["motion_chance"], "sync_top1": results["metrics"]["sync_chance"],
        "order_top1": results["metrics"]["order_chance"],
    }  # fmt: skip
    assert all(isinstance(value, float) and 0 <= value <= 1 for value in results["metrics"].values())
    assert results["class_names"] == list(SYNTHMOTION_CLASSES)
    confusion = torch.tensor(results["confusion"])
    assert confusion.shape == (8, 8) and confusion.sum(dim=1).tolist() == [1] * 8
    assert results["data"]["num_train_videos"] == 16 and results["data"]["num_test_videos"] == 8
    assert results["data"]["test_split"] == "test"
    json.dumps(results)  # JSON-ready as it is


def test_chance_levels_by_hand():
    # Gallery [0, 0, 1, 1, 1, 1], queries [0, 1, 1]: R@1 = (1/3) * 2/6 + (2/3) * 4/6; R@2 for class 0 misses
    # with C(4, 2) / C(6, 2) = 6/15, for class 1 with C(2, 2) / C(6, 2) = 1/15.
    chance = chance_levels([0, 0, 1, 1, 1, 1], [0, 1, 1], ks=(1, 2, 50))
    assert chance["R@1"] == pytest.approx(1 / 3 * 2 / 6 + 2 / 3 * 4 / 6)
    assert chance["R@2"] == pytest.approx(1 / 3 * 9 / 15 + 2 / 3 * 14 / 15)
    assert chance["R@50"] == pytest.approx(1.0), "k past the gallery size draws the whole gallery"
    assert chance["knn_top1"] == chance["linear_top1"] == pytest.approx(2 / 3), "the best constant guess"


def test_protocol_subsets_match_the_full_run(tiny_model, synthmotion_dir, results):
    model, processor = tiny_model
    train = load_synthmotion(synthmotion_dir, split="train", decode=False)
    test = load_synthmotion(synthmotion_dir, split="test", decode=False)
    subset = evaluate_datasets(model, processor, train, test, protocols=("knn", "order"), progress=False)
    expected = ("knn_top1", "nn_top1", "order_top1", "order_chance")
    assert subset["metrics"] == {name: results["metrics"][name] for name in expected}
    assert "confusion" not in subset
    alone = evaluate_datasets(model, processor, train, test, protocols=("attentive",), progress=False)
    assert alone["metrics"] == {"attentive_top1": results["metrics"]["attentive_top1"]}  # the CNN's map, as tokens
    assert alone["chance"] == {"attentive_top1": 1 / 8}
    with pytest.raises(ValueError, match="unknown or no protocols"):
        evaluate_datasets(model, processor, train, test, protocols=("retrieval", "fine-tune"))


def test_evaluate_models_scores_each_model_as_evaluate_model_does_and_decodes_each_video_once(tiny_model, synthmotion_dir, results, monkeypatch):
    model, processor = tiny_model
    config = hfvid.get_config("transrank-r3d18-tiny")
    torch.manual_seed(1)
    other = TransRankModel(config)
    protocols = ("retrieval", "knn", "linear")
    alone = evaluate_model(other, processor, synthmotion_dir, protocols=protocols, progress=False)
    opened = []
    original = features_module.open_video
    monkeypatch.setattr(features_module, "open_video", lambda video, **kw: opened.append(video) or original(video, **kw))
    both = evaluate_models({"a": model, "b": other}, processor, synthmotion_dir, protocols=protocols, progress=False)
    assert len(opened) == 16 + 8, "each train and test video opened once for both models"
    assert both["a"]["metrics"] == {name: results["metrics"][name] for name in both["a"]["metrics"]}
    assert both["b"]["metrics"] == alone["metrics"] and both["b"]["confusion"] == alone["confusion"]
    assert both["a"]["metrics"] != both["b"]["metrics"]


def test_write_results_writes_json_markdown_and_plots(results, tmp_path):
    paths = write_results(results, tmp_path, "tiny-transrank")
    assert set(paths) == {"json", "markdown", "recall_plot", "confusion_plot"}
    assert json.loads((tmp_path / "results.json").read_text()) == {"model": "tiny-transrank", **results}
    markdown = (tmp_path / "results.md").read_text()
    assert "| Metric (%) | tiny-transrank | chance |" in markdown
    assert "| Retrieval R@1 | " in markdown and "| 12.5 |" in markdown
    assert f"| Sync chance | {100 * results['metrics']['sync_chance']:.1f} |" in markdown
    for name in ("recall_at_k.png", "confusion_matrix.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_table_has_a_row_per_metric_and_a_column_per_model(results, tmp_path):
    retrieval_only = {"metrics": {"R@1": 0.5, "R@5": 0.75}}
    table = compare_table({"pre-trained": retrieval_only, "random init": results})
    lines = table.strip().splitlines()
    assert lines[0] == "| Metric (%) | pre-trained | random init | chance |"
    assert len(lines) == 2 + len(ALL_METRICS) - 3  # R@10..R@50 are nobody's metric here
    assert lines[2] == f"| Retrieval R@1 | 50.0 | {100 * results['metrics']['R@1']:.1f} | 12.5 |"
    assert lines[3] == "| Retrieval R@5 | 75.0 | - | - |"
    assert any(line.startswith("| Order top-1 | - |") for line in lines)
    assert compare_table({"pre-trained": retrieval_only}).splitlines()[0] == "| Metric (%) | pre-trained |"
    paths = write_comparison({"pre-trained": retrieval_only, "random init": results}, tmp_path)
    assert paths["markdown"].read_text().endswith(table)
    assert paths["recall_plot"].is_file()


def test_model_index_round_trips_through_huggingface_hub(results):
    model_index = to_model_index(results, "tiny-transrank", "SynthMotion", "synthmotion")
    name, eval_results = model_index_to_eval_results(model_index)
    assert name == "tiny-transrank"
    assert len(eval_results) == len(results["metrics"]) - 3  # chance levels are not results
    assert eval_results_to_model_index(name, eval_results) == model_index
    by_name = {result.metric_name: result for result in eval_results}
    assert by_name["Retrieval R@1"].task_type == "video-retrieval" and by_name["Retrieval R@1"].metric_type == "recall"
    assert by_name["Sync top-1"].metric_value == results["metrics"]["sync_top1"]
    assert by_name["Linear probe top-1"].dataset_split == "test"
    card_data = ModelCardData(model_name=name, eval_results=eval_results)
    assert card_data.to_dict()["model-index"] == model_index
    card = ModelCard(f"---\n{card_data.to_yaml()}\n---\n# tiny-transrank\n")
    assert len(card.data.eval_results) == len(eval_results)


def test_model_index_needs_a_reportable_metric():
    with pytest.raises(ValueError, match="no retrieval or accuracy"):
        to_model_index({"metrics": {"order_chance": 0.5}, "data": {}}, "m", "d", "d")


def test_paired_summary_by_hand():
    """Differences +2, +4, -1 (mean 5/3, sample sd sqrt(19/3), t(0.975, 2) = 4.3027): "+1.7 +- 6.3 (2/3 above)";
    seeds that do not pair up are an error, not silently dropped."""
    assert paired_summary([12.0, 14.0, 9.0], [10.0, 10.0, 10.0]) == "+1.7 +- 6.3 (2/3 above)"
    assert paired_summary([50.0], [40.0]) == "+10.0 +- 0.0 (1/1 above)"
    with pytest.raises(ValueError):
        paired_summary([1.0, 2.0], [1.0])
