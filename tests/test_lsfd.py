"""LSFD: config validation, the long and short views the processor takes from a real mp4, the two terms against a
hand computation, the two feature parts of `AutoModel` and their evaluation (`--feature`), saving and loading, and
learning on a fixed batch (DDP: test_contrastive_ddp.py; pretrain.py: test_contrastive_pretraining.py; the
transformers common tests: test_transformers_common.py)."""

import numpy as np
import pytest
import torch
from conftest import assert_same_state, frame_index_of, multi_view_clips, training_losses
from test_evaluate_cli import load_script
from transformers import AutoModel, AutoModelForPreTraining, AutoModelForVideoClassification, AutoVideoProcessor

import hfvid
from hfvid.data.decoding import VideoReader
from hfvid.evaluation.features import FeatureView, view_of
from hfvid.hub.model_card import write_model_card
from hfvid.losses.predictive import feature_prediction_loss
from hfvid.models.lsfd import LSFDConfig, LSFDForPreTraining
from hfvid.presets import processor_for_config

TINY = "lsfd-r3d18-tiny"


def test_presets_and_config_validation():
    assert {"lsfd-r3d18", "lsfd-r2plus1d18", TINY, "lsfd-vit-tiny"} <= set(hfvid.list_configs())
    config = hfvid.get_config(TINY)
    assert config.views_per_video == 5 and (config.num_short_views, config.aggregator) == (4, "mlp")
    with pytest.raises(ValueError, match="num_short_views must be >= 2"):
        LSFDConfig(num_short_views=1)
    with pytest.raises(ValueError, match="aggregator must be one of"):
        LSFDConfig(aggregator="lstm")


def test_processor_takes_a_long_view_and_the_short_views_that_tile_it(numbered_mp4):
    processor = processor_for_config(hfvid.get_config(TINY))
    mean = torch.tensor(processor.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(processor.image_std).view(1, 3, 1, 1)
    for seed in range(4):
        with VideoReader(numbered_mp4) as reader:
            clips = processor.preprocess_pretraining([reader], rng=np.random.default_rng(seed))["pixel_values_videos"][0]
        assert clips.shape == (5, 8, 3, 32, 32)
        long_view, *short_views = (frame_index_of((clip * std + mean) * 255) for clip in clips)
        start = short_views[0][0]
        assert np.concatenate(short_views).tolist() == list(range(start, start + 32))  # end to end, in order
        assert long_view.tolist() == list(range(start, start + 32, 4))  # the same span at step 4


@pytest.mark.parametrize("aggregator", ["mlp", "gru"])
def test_the_two_terms_by_hand(aggregator):
    config = hfvid.get_config(TINY, aggregator=aggregator, stationary_weight=0.5, non_stationary_weight=2.0)
    torch.manual_seed(0)
    model = LSFDForPreTraining(config)
    clips = multi_view_clips(config, batch=3)
    output = model(pixel_values_videos=clips)
    with torch.no_grad():  # every view in one backbone pass (BatchNorm on batch statistics), view after view
        pooled = model.lsfd.backbone(clips.transpose(0, 1).flatten(0, 1)).pooler_output
        stationary = model.lsfd.stationary_head(pooled).view(5, 3, -1)
        changing = model.lsfd.non_stationary_head(pooled).view(5, 3, -1)
        stationary_term = sum(feature_prediction_loss(stationary[k], stationary[0], 0.1) for k in range(1, 5)) / 4
        aggregate = model.aggregator(changing[1:].transpose(0, 1))
        non_stationary_term = feature_prediction_loss(aggregate, changing[0], 0.1)
    assert output.task_losses["stationary"].item() == pytest.approx(stationary_term.item(), rel=1e-5)
    assert output.task_losses["non_stationary"].item() == pytest.approx(non_stationary_term.item(), rel=1e-5)
    assert output.loss.item() == pytest.approx((0.5 * stationary_term + 2.0 * non_stationary_term).item(), rel=1e-5)
    assert output.accuracy["stationary"].shape == (3, 4) and output.accuracy["non_stationary"].shape == (3,)
    output.loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_the_aggregate_depends_on_the_order_of_the_short_views():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = LSFDForPreTraining(config).eval()
    clips = multi_view_clips(config, batch=3)
    output = model(pixel_values_videos=clips)
    shuffled = model(pixel_values_videos=clips[:, [0, 4, 3, 2, 1]])
    assert shuffled.task_losses["stationary"].item() == pytest.approx(output.task_losses["stationary"].item(), rel=1e-5)
    assert shuffled.task_losses["non_stationary"].item() != pytest.approx(output.task_losses["non_stationary"].item(), rel=1e-3)


def test_auto_model_gives_both_parts_and_loads_from_a_pretraining_folder(tmp_path):
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = AutoModelForPreTraining.from_config(config)
    training_losses(model, 2, pixel_values_videos=multi_view_clips(config))
    model.eval().save_pretrained(tmp_path)
    processor_for_config(config).save_pretrained(tmp_path)
    clips = multi_view_clips(config, seed=1)
    reloaded, info = AutoModelForPreTraining.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    assert torch.equal(reloaded.eval()(pixel_values_videos=clips).loss, model(pixel_values_videos=clips).loss)
    backbone, info = AutoModel.from_pretrained(tmp_path, output_loading_info=True)
    assert type(backbone).__name__ == "LSFDModel" and not info["missing_keys"] and not info["unexpected_keys"]
    assert_same_state(backbone.state_dict(), model.lsfd.state_dict())
    video = torch.randn(2, 8, 3, 32, 32)
    output = backbone.eval()(video)
    assert output.pooler_output.shape == (2, 64) and output.stationary.shape == output.non_stationary.shape == (2, 64)
    torch.testing.assert_close(output.stationary, model.lsfd(video).stationary)
    classifier, info = AutoModelForVideoClassification.from_pretrained(tmp_path, num_labels=3, output_loading_info=True)
    assert sorted(info["missing_keys"]) == ["classifier.bias", "classifier.weight"] and not info["unexpected_keys"]
    assert not any("stationary" in name for name in classifier.state_dict())  # the classifier fine-tunes the backbone
    # ... with the pre-trained backbone's weights, exactly.
    pretrained = {f"lsfd.{name}": value for name, value in model.lsfd.state_dict().items() if "stationary" not in name}
    fine_tuned = {name: value for name, value in classifier.state_dict().items() if not name.startswith("classifier.")}
    assert_same_state(fine_tuned, pretrained)
    processor = AutoVideoProcessor.from_pretrained(tmp_path)
    assert type(processor).__name__ == "LSFDVideoProcessor" and processor.num_short_views == 4
    card = write_model_card(tmp_path, {"dataset": "synthmotion", "steps": 2, "batch_size_per_process": 4, "seed": 0, "device": "cpu"}).read_text()
    assert "LSFD pre-trained with hfvid" in card and "@inproceedings{behrmann2021lsfd," in card and "{{" not in card
    # The evaluation's view of each part.
    assert view_of(backbone) is backbone
    both = FeatureView(backbone, "both")(video).pooler_output
    torch.testing.assert_close(both, torch.cat([output.stationary, output.non_stationary], dim=1))
    torch.testing.assert_close(FeatureView(backbone, "non_stationary")(video).pooler_output, output.non_stationary)
    with pytest.raises(ValueError, match="gives no moving: its outputs are last_hidden_state, pooler_output, stationary"):
        FeatureView(backbone, "moving")(video)


def test_evaluate_cli_scores_the_named_part(synthmotion_dir, tmp_path):
    model_dir = tmp_path / "lsfd"
    config = hfvid.get_config(TINY)
    AutoModelForPreTraining.from_config(config).save_pretrained(model_dir)
    processor_for_config(config).save_pretrained(model_dir)
    script = load_script()
    scores = {}
    for feature in ("stationary", "both"):
        results = script.main(["--model", str(model_dir), "--dataset", synthmotion_dir, "--protocols", "linear",
                               "--feature", feature, "--output_dir", str(tmp_path / feature), "--no_progress"])  # fmt: skip
        scores[feature] = results["lsfd"]["metrics"]["linear_top1"]
    assert all(0 <= score <= 1 for score in scores.values())


def test_a_few_steps_on_a_fixed_batch_lower_the_loss():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = LSFDForPreTraining(config)
    clips = multi_view_clips(config)
    losses = training_losses(model, 8, pixel_values_videos=clips)
    assert losses[-1] < losses[0] / 2, losses
