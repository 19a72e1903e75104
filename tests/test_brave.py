"""BraVe: config validation, the narrow and broad views the processor takes from a real mp4, the loss against a hand
computation, saving and loading through the Auto classes, learning on a fixed batch (DDP: test_contrastive_ddp.py;
pretrain.py: test_contrastive_pretraining.py; the transformers common tests: test_transformers_common.py)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import assert_same_state, frame_index_of, training_losses
from transformers import AutoModel, AutoModelForPreTraining, AutoModelForVideoClassification, AutoVideoProcessor

import hfvid
from hfvid.data.decoding import VideoReader
from hfvid.hub.model_card import write_model_card
from hfvid.models.brave import BraVeConfig, BraVeForPreTraining
from hfvid.presets import processor_for_config

TINY = "brave-r3d18-tiny"


def views(config, batch: int = 4, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random narrow and broad views; a video's two views share a common component, different videos do not."""
    generator = torch.Generator().manual_seed(seed)
    common = torch.randn(batch, 1, 3, 1, 1, generator=generator)
    size, broad_size = config.image_size, config.broad_image_size
    narrow = common + torch.randn(batch, config.num_frames, 3, size, size, generator=generator)
    broad = common + torch.randn(batch, config.broad_num_frames, 3, broad_size, broad_size, generator=generator)
    return {"pixel_values_videos": narrow, "broad_values": broad}


def test_presets_and_config_validation():
    assert {"brave-r3d18", "brave-r2plus1d18", TINY, "brave-vit-tiny"} <= set(hfvid.list_configs())
    full = hfvid.get_config("brave-r3d18")
    assert (full.broad_num_frames, full.broad_frame_step, full.broad_image_size) == (64, 4, 56)
    assert full.broad_backbone == full.backbone and (full.projection_hidden_dim, full.projection_dim) == (4096, 128)
    with pytest.raises(ValueError, match="must fit in the broad view"):
        BraVeConfig(num_frames=16, frame_step=4, broad_num_frames=8, broad_frame_step=2)
    with pytest.raises(ValueError, match="broad_input must be one of"):
        BraVeConfig(broad_input="flow")
    with pytest.raises(ValueError, match="narrow_position must be one of"):
        BraVeConfig(narrow_position="end")
    with pytest.raises(ValueError, match="the broad backbone gives 512 features and the narrow one 64"):
        BraVeForPreTraining(hfvid.get_config(TINY, broad_backbone="r3d_18"))


@pytest.mark.parametrize("narrow_position", ["start", "random"])
def test_processor_nests_the_narrow_view_in_the_broad_one(numbered_mp4, narrow_position):
    config = hfvid.get_config(TINY, narrow_position=narrow_position, broad_image_size=16)
    processor = processor_for_config(config)
    mean = torch.tensor(processor.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(processor.image_std).view(1, 3, 1, 1)
    starts = set()
    for seed in range(6):
        with VideoReader(numbered_mp4) as reader:
            batch = processor.preprocess_pretraining([reader], rng=np.random.default_rng(seed))
        assert batch["pixel_values_videos"].shape == (1, 8, 3, 32, 32)
        assert batch["broad_values"].shape == (1, 16, 3, 16, 16)
        narrow = frame_index_of((batch["pixel_values_videos"][0] * std + mean) * 255)
        broad = frame_index_of((batch["broad_values"][0] * std + mean) * 255)
        assert np.array_equal(np.diff(narrow), np.ones(7)) and np.array_equal(np.diff(broad), np.full(15, 2))
        assert broad[0] <= narrow[0] and narrow[-1] <= broad[-1]
        if narrow_position == "start":
            assert narrow[0] == broad[0]
        starts.add(int(narrow[0] - broad[0]))
    assert narrow_position == "start" or len(starts) > 1


def test_frame_differences_as_the_broad_view(numbered_mp4):
    config = hfvid.get_config(TINY, broad_input="frame_difference")
    processor = processor_for_config(config)
    with VideoReader(numbered_mp4) as reader:
        broad = processor.preprocess_pretraining([reader], rng=np.random.default_rng(0))["broad_values"][0]
    # Frame i has brightness 8 + 4i: at step 2, consecutive broad frames differ by 8 levels in every channel.
    expected = 8 / 255 / torch.tensor(processor.image_std)
    assert broad.shape == (16, 3, 32, 32)
    torch.testing.assert_close(broad.mean(dim=(0, 2, 3)), expected, atol=0.01, rtol=0.02)


def test_loss_is_the_symmetric_regression_of_the_shared_heads():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = BraVeForPreTraining(config)
    named = views(config)
    output = model(**named)
    with torch.no_grad():
        narrow = model.brave(named["pixel_values_videos"]).pooler_output
        broad = model.broad_backbone(named["broad_values"]).pooler_output
        projections = model.projector(torch.cat([narrow, broad]))
        predictions = model.predictor(projections)
    z_narrow, z_broad = projections.split(4)
    h_narrow, h_broad = predictions.split(4)
    expected = 0.5 * ((1 - F.cosine_similarity(h_narrow, z_broad)).mean() + (1 - F.cosine_similarity(h_broad, z_narrow)).mean())
    assert output.loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert output.pooler_output.shape == (4, 64) and output.embeddings.shape == (4, 2, 64)
    output.loss.backward()
    # The stop-gradient: no gradient reaches a projection except through the predictor.
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    with pytest.raises(ValueError, match="needs broad_values"):
        model(pixel_values_videos=named["pixel_values_videos"])


def test_save_and_auto_classes_round_trip(tmp_path):
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = AutoModelForPreTraining.from_config(config)
    named = views(config)
    model.train()(**named)  # BatchNorm statistics worth keeping
    model.eval().save_pretrained(tmp_path)
    processor_for_config(config).save_pretrained(tmp_path)
    reloaded, info = AutoModelForPreTraining.from_pretrained(tmp_path, output_loading_info=True)
    assert type(reloaded) is BraVeForPreTraining and not info["missing_keys"] and not info["unexpected_keys"]
    assert torch.equal(reloaded.eval()(**named).loss, model(**named).loss)
    backbone, info = AutoModel.from_pretrained(tmp_path, output_loading_info=True)
    assert type(backbone).__name__ == "BraVeModel" and not info["unexpected_keys"] and not info["missing_keys"]
    assert torch.equal(backbone.eval()(named["pixel_values_videos"]).pooler_output, model.brave(named["pixel_values_videos"]).pooler_output)
    classifier, info = AutoModelForVideoClassification.from_pretrained(tmp_path, num_labels=3, output_loading_info=True)
    assert sorted(info["missing_keys"]) == ["classifier.bias", "classifier.weight"] and not info["unexpected_keys"]
    assert classifier(named["pixel_values_videos"]).logits.shape == (4, 3)
    # The classifier fine-tunes the narrow backbone, loaded exactly.
    fine_tuned = {name: value for name, value in classifier.state_dict().items() if not name.startswith("classifier.")}
    narrow = {f"brave.{name}": value for name, value in model.brave.state_dict().items()}
    assert_same_state(fine_tuned, narrow)
    processor = AutoVideoProcessor.from_pretrained(tmp_path)
    assert (processor.broad_num_frames, processor.broad_frame_step, processor.broad_size) == (16, 2, 32)
    card = write_model_card(tmp_path, {"dataset": "synthmotion", "steps": 1, "batch_size_per_process": 4, "seed": 0, "device": "cpu"}).read_text()
    assert "BraVe pre-trained with hfvid" in card and "@inproceedings{recasens2021brave," in card
    assert "16 frames (step 2) at 32 px" in card and "{{" not in card


def test_a_few_steps_on_a_fixed_batch_lower_the_loss():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = BraVeForPreTraining(config)
    losses = training_losses(model, 8, **views(config))
    assert losses[-1] < losses[0] / 2, losses


def test_the_equivariance_term_on_the_narrow_backbone(numbered_mp4):
    config = hfvid.get_config(TINY, equivariance={"transformations": ["1x", "reverse"]})
    processor = processor_for_config(config)
    with VideoReader(numbered_mp4) as reader:
        batch = processor.preprocess_pretraining([reader, reader], rng=np.random.default_rng(0))
    assert batch["equivariance_values"].shape == (2, 2, 8, 3, 32, 32)
    output = BraVeForPreTraining(config)(**batch)
    assert output.accuracy["equivariance"].shape == (2, 2) and torch.isfinite(output.loss)
