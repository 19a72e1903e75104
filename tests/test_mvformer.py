"""MV-Former: configuration, the frozen encoder, CARL views, learning on a fixed batch, loading a pre-trained image
encoder, and pre-training through training/pretrain.py on SynthMotion with phases."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import run_in_process, save_tiny_transrank
from transformers import AutoModel, ViTConfig, ViTModel

import hfvid
from hfvid.data.synthetic import SynthMotionConfig, generate_synthmotion
from hfvid.models.mvformer import MVFormerConfig, MVFormerForPreTraining, MVFormerVideoProcessor

TINY = "mvformer-vit-tiny"


def moving_bar(offset: int) -> torch.Tensor:
    """24 frames of a white bar sliding right over black, starting at ``offset``."""
    video = torch.zeros(24, 3, 36, 36, dtype=torch.uint8)
    for t in range(24):
        x = (t + offset) % 30
        video[t, :, 10:18, x : x + 6] = 255
    return video


def tiny_batch(model, seed: int = 0) -> dict[str, torch.Tensor]:
    processor = MVFormerVideoProcessor.from_model_config(model.config)
    return dict(processor.preprocess_pretraining([moving_bar(0), moving_bar(5)], rng=np.random.default_rng(seed)))


def test_config_checks_and_defaults():
    config = hfvid.get_config(TINY)
    assert config.encoder_layers == [2, 3, 4] and config.encoder_config().model_type == "vit"
    assert MVFormerConfig(image_encoder={"model_type": "vit", "num_hidden_layers": 12}).encoder_layers == [3, 7, 11]
    with pytest.raises(ValueError, match="encoder_layers must be hidden layers 1..4"):
        MVFormerConfig(encoder_layers=[5])
    with pytest.raises(ValueError, match="must be divisible by num_temporal_heads"):
        MVFormerConfig(hidden_size=30, num_temporal_heads=4)
    with pytest.raises(ValueError, match="model_type"):
        MVFormerConfig(image_encoder={"hidden_size": 8})


def test_views_sample_ordered_frames_from_a_window():
    processor = MVFormerVideoProcessor(num_frames=8, crop_size={"height": 16, "width": 16}, min_window=0.5)
    rng = np.random.default_rng(0)
    for _ in range(20):
        indices = processor.sample_view_indices(40, rng)
        assert len(indices) == 8 and np.all(np.diff(indices) > 0) and 0 <= indices[0] and indices[-1] < 40
    views = processor.pretraining_views(torch.randint(0, 255, (40, 3, 20, 20), dtype=torch.uint8), rng)
    assert views["pixel_values_videos"].shape == (2, 8, 3, 16, 16) and views["timestamps"].shape == (2, 8)
    assert not torch.equal(views["timestamps"][0], views["timestamps"][1])


def test_the_encoder_stays_frozen_and_the_rest_learns():
    torch.manual_seed(0)
    model = MVFormerForPreTraining(hfvid.get_config(TINY, num_frames=8))
    encoder_before = {k: v.clone() for k, v in model.mvformer.image_encoder.state_dict().items()}
    batch = tiny_batch(model)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-4)
    model.train()
    assert not model.mvformer.image_encoder.training
    losses = []
    for _ in range(30):
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]  # each frame finds its time in the other view
    assert all(p.grad is None for p in model.mvformer.image_encoder.parameters())
    for key, value in model.mvformer.image_encoder.state_dict().items():
        assert torch.equal(value, encoder_before[key]), key
    frames = AutoModel.from_config(model.config).eval()(batch["pixel_values_videos"][:, 0])
    assert frames.last_hidden_state.shape == (2, 8, 32) and frames.pooler_output.shape == (2, 32)


def test_from_image_encoder_loads_a_pretrained_image_model(tmp_path):
    torch.manual_seed(1)
    vit = ViTModel(ViTConfig(hidden_size=32, num_hidden_layers=3, num_attention_heads=2, intermediate_size=64, image_size=32, patch_size=8))
    vit.save_pretrained(tmp_path / "vit")
    model = MVFormerForPreTraining.from_image_encoder(str(tmp_path / "vit"), hidden_size=32, num_temporal_heads=2, image_size=32)
    assert model.config.image_encoder_name == str(tmp_path / "vit") and model.config.encoder_layers == [1, 2]
    for key, value in vit.state_dict().items():
        assert torch.equal(model.mvformer.image_encoder.state_dict()[key], value), key
    model.save_pretrained(tmp_path / "mvformer")
    again = MVFormerForPreTraining.from_pretrained(tmp_path / "mvformer")
    torch.testing.assert_close(again.mvformer.image_encoder.embeddings.patch_embeddings.projection.weight, vit.embeddings.patch_embeddings.projection.weight)
    assert "(" + str(tmp_path / "vit") + ")" in again.config.describe_encoder()


@pytest.mark.slow
def test_pretrain_and_frame_level_evaluation_on_synthmotion_with_phases(tmp_path, synthmotion_dir):
    data = generate_synthmotion(tmp_path / "phases", SynthMotionConfig(num_train_per_class=1, num_test_per_class=1, size=32,
                                                                      num_frames=24, fps=8, phases=True),
                                num_workers=1, progress=False)  # fmt: skip
    out = tmp_path / "run"
    run_in_process(["--model", TINY, "--dataset", str(data), "--max_steps", "3", "--batch_size", "2", "--logging_steps", "1",
                    "--eval_protocols", "knn", "--output_dir", str(out)])  # fmt: skip
    assert json.loads((out / "training_info.json").read_text())["steps"] == 3
    card = (out / "README.md").read_text()
    assert "MV-Former" in card and "frozen vit image encoder" in card and "kNN top-1" in card
    model = AutoModel.from_pretrained(out)
    assert type(model).__name__ == "MVFormerModel"

    # The frame-level protocols on the pre-trained model, against random temporal-transformer weights.
    from hfvid.cli import evaluate

    frame_protocols = "phase,progress,kendall,frame_retrieval,segmentation"
    evaluate.main(["--model", str(out), "--dataset", str(data), "--protocols", frame_protocols, "--compare_random_init",
                   "--output_dir", str(tmp_path / "eval"), "--no_progress"])  # fmt: skip
    results = json.loads((tmp_path / "eval" / "results.json").read_text())["metrics"]
    assert {"phase_top1", "progression_r2", "kendalls_tau", "ap@5", "mof", "edit", "f1@10", "f1@25", "f1@50"} <= set(results)
    assert 0 <= results["phase_top1"] <= 1 and -1 <= results["kendalls_tau"] <= 1
    assert "Kendall's tau (x100)" in (tmp_path / "eval" / "comparison.md").read_text()
    # The frozen encoder's own mean-pooled patch features per frame: the baseline MV-Former is compared with.
    evaluate.main(["--model", str(out), "--dataset", str(data), "--protocols", "phase,kendall", "--feature", "image_features",
                   "--output_dir", str(tmp_path / "eval_image"), "--no_progress"])  # fmt: skip
    image = json.loads((tmp_path / "eval_image" / "results.json").read_text())["metrics"]
    assert set(image) == {"phase_top1", "kendalls_tau"} and image != {k: results[k] for k in image}
    with pytest.raises(ValueError, match="need per-frame labels in a column 'phases'"):
        evaluate.main(["--model", str(out), "--dataset", synthmotion_dir, "--protocols", "phase", "--output_dir",
                       str(tmp_path / "eval2"), "--no_progress"])  # fmt: skip
    # A clip model: its last stage's time cells (8 frames each for the tiny R3D), or a clip around every frame.
    transrank = tmp_path / "transrank"
    save_tiny_transrank(transrank)
    for window, frames_per_feature in ((None, 8), (4, 1)):
        options = [] if window is None else ["--frame_window", str(window)]
        evaluate.main(["--model", str(transrank), "--dataset", str(data), "--protocols", "phase,kendall", *options,
                       "--output_dir", str(tmp_path / f"eval_transrank_{window}"), "--no_progress"])  # fmt: skip
        written = json.loads((tmp_path / f"eval_transrank_{window}" / "results.json").read_text())
        assert written["settings"]["frames_per_feature"] == frames_per_feature and written["settings"]["frame_window"] == window
        assert set(written["metrics"]) == {"phase_top1", "kendalls_tau"}
