"""TransRank: config, model classes, video processor, Auto classes and remote-code loading."""

import json

import numpy as np
import pytest
import torch
from conftest import frame_index_of, run_without_hfvid, save_tiny_transrank
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForPreTraining,
    AutoModelForVideoClassification,
    AutoVideoProcessor,
    pipeline,
)

import hfvid
from hfvid.data.decoding import VideoReader
from hfvid.models.transrank import (
    TRANSRANK_PRESETS,
    TransRankConfig,
    TransRankForPreTraining,
    TransRankForVideoClassification,
    TransRankModel,
    TransRankVideoProcessor,
)

TINY = "transrank-r3d18-tiny"


def tiny_clips(config, batch=2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    size, frames = config.image_size, config.num_frames
    return torch.randn(batch, len(config.transformations), frames, 3, size, size, generator=generator)


def test_presets_are_listed_and_build():
    names = hfvid.list_configs()
    for name in ("transrank-r3d18", "transrank-r2plus1d18", "transcls-r3d18", "speednet-r3d18", "rotnet3d-r3d18", "rtt-r3d18", "pace-r3d18"):
        assert name in names and f"{name}-tiny" in names
    assert hfvid.get_config("transcls-r3d18").loss == "cls"
    assert hfvid.get_config("transrank-r2plus1d18").backbone["arch"] == "r2plus1d"
    assert hfvid.get_config(TINY, margin=0.5).margin == 0.5
    with pytest.raises(ValueError, match="unknown config 'nope'.*transrank-r3d18"):
        hfvid.get_config("nope")


def test_config_validates_its_fields():
    with pytest.raises(ValueError, match="loss must be one of"):
        TransRankConfig(loss="mse")
    with pytest.raises(ValueError, match="unknown transformation 'sideways'"):
        TransRankConfig(tasks=[{"name": "t", "transformations": ["1x", "sideways"]}])
    with pytest.raises(ValueError, match="at least two"):
        TransRankConfig(tasks=[{"name": "t", "transformations": ["1x"]}])
    config = TransRankConfig()
    assert config.transformations == ["1x", "2x", "reverse", "rot0", "rot90", "rot180", "rot270"]
    assert config.backbone["widths"] == [64, 128, 256, 512]


@pytest.mark.parametrize("name", [n for n in TRANSRANK_PRESETS if n.endswith("-tiny")])
def test_every_tiny_preset_pretrains_one_step(name):
    config = hfvid.get_config(name)
    model = TransRankForPreTraining(config)
    output = model(pixel_values_videos=tiny_clips(config))
    assert output.loss.ndim == 0 and torch.isfinite(output.loss)
    for task in config.tasks:
        size = len(task["transformations"])
        assert output.scores[task["name"]].shape == (2, size, size)
        assert output.accuracy[task["name"]].shape == (2, size)
    output.loss.backward()
    # The ranking loss compares scores within a column, so a per-transformation bias cancels out:
    # the heads' output biases get exactly no gradient under it (and do under cross-entropy).
    output_biases = {f"heads.{task['name']}.3.bias" for task in config.tasks}
    gradients = {n: p.grad for n, p in model.named_parameters()}
    missing = [n for n, g in gradients.items() if n not in output_biases and (g is None or not g.abs().sum() > 0)]
    assert not missing, f"no gradient reaches {missing}"
    bias_gradient = sum(gradients[n].abs().sum().item() for n in output_biases)
    assert (bias_gradient < 1e-6) if config.loss == "rank" else (bias_gradient > 0)


def test_pretraining_rejects_the_wrong_number_of_clips():
    config = hfvid.get_config(TINY)
    assert len(config.transformations) == 3  # the tiny preset ranks the temporal task alone
    with pytest.raises(ValueError, match="3 clips"):
        TransRankForPreTraining(config)(pixel_values_videos=tiny_clips(config)[:, :2])


def test_transrank_learns_to_rank_a_learnable_cue():
    """Clips whose transformation is visible (a brightness offset per transformation) are ranked
    correctly after a few steps: the loss falls and the ranking accuracy reaches 100%."""
    config = hfvid.get_config(TINY, tasks=[{"name": "t", "transformations": ["1x", "2x", "reverse"]}])
    torch.manual_seed(0)
    model = TransRankForPreTraining(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    clips = torch.randn(4, 3, config.num_frames, 3, 32, 32) + torch.tensor([-1.0, 0.0, 1.0]).view(1, 3, 1, 1, 1, 1)
    first = model(pixel_values_videos=clips).loss.item()
    for _ in range(20):
        output = model(pixel_values_videos=clips)
        optimizer.zero_grad()
        output.loss.backward()
        optimizer.step()
    model.eval()
    output = model(pixel_values_videos=clips)
    assert output.loss.item() < first / 2
    assert output.accuracy["t"].mean(dim=0).tolist() == [1.0, 1.0, 1.0]


def test_model_and_classifier_shapes():
    config = hfvid.get_config(TINY, num_labels=5)
    video = torch.randn(3, config.num_frames, 3, 32, 32)
    features = TransRankModel(config)(pixel_values_videos=video)
    assert features.pooler_output.shape == (3, 64)
    assert features.last_hidden_state.shape[:2] == (3, 64)
    classifier = TransRankForVideoClassification(config)
    output = classifier(pixel_values_videos=video, labels=torch.tensor([0, 4, 2]))
    assert output.logits.shape == (3, 5)
    output.loss.backward()
    assert classifier.classifier.weight.grad is not None
    with pytest.raises(ValueError, match=r"\(batch, frames, channels, height, width\)"):
        TransRankModel(config)(pixel_values_videos=video[0])


def test_processor_pretraining_clips_carry_their_transformations(numbered_mp4):
    """On a real mp4 whose frame i has brightness 8 + 4i: the 1x clip advances ~1 frame per step,
    2x ~2, reverse goes backwards; the rotated clips really are rotated."""
    processor = TransRankVideoProcessor(
        num_frames=8,
        crop_size={"height": 64, "width": 64},
        crop_scale=[1.0, 1.0],  # on square frames: the whole frame, so pixels stay comparable
        flip_p=0.0,
        color_jitter_p=0.0,
        grayscale_p=0.0,
    )
    with VideoReader(numbered_mp4) as reader:
        indices = processor.sample_pretraining_indices(reader.metadata.num_frames, np.random.default_rng(0))
        views = processor.pretraining_views(reader, np.random.default_rng(0))
    assert list(views) == ["pixel_values_videos"]
    clips = views["pixel_values_videos"]
    assert clips.shape == (7, 8, 3, 64, 64)
    mean = torch.tensor(processor.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(processor.image_std).view(1, 3, 1, 1)
    decoded = [((clip * std + mean) * 255).round().clamp(0, 255) for clip in clips]
    recovered = [frame_index_of(clip).tolist() for clip in decoded]
    assert recovered == [i.tolist() for i in indices]
    one_x, two_x, reverse = (np.diff(i) for i in indices[:3])
    assert set(one_x) <= {0, 1, 2} and 0.75 <= one_x.mean() <= 1.25
    assert set(two_x) <= {1, 2, 3} and 1.5 <= two_x.mean() <= 2.5
    assert (reverse <= 0).all() and reverse.sum() < 0

    # Rotation, on a frame with a bright top-left quadrant: rot90 (counter-clockwise) moves it to bottom-left.
    frame = torch.zeros(1, 3, 64, 64, dtype=torch.uint8)
    frame[:, :, :32, :32] = 255
    video = frame.repeat(20, 1, 1, 1)
    clips = processor.preprocess_pretraining([video], rng=np.random.default_rng(0))["pixel_values_videos"][0]
    bright_quadrant = []
    for clip in clips[3:]:
        quadrants = {"top-left": clip[..., :32, :32], "top-right": clip[..., :32, 32:], "bottom-left": clip[..., 32:, :32], "bottom-right": clip[..., 32:, 32:]}
        bright_quadrant.append(max(quadrants, key=lambda q: quadrants[q].mean()))
    assert bright_quadrant == ["top-left", "bottom-left", "bottom-right", "top-right"]


def test_processor_each_clip_gets_its_own_augmentation():
    processor = TransRankVideoProcessor(num_frames=4, crop_size={"height": 32, "width": 32}, transformations=["1x", "1x", "1x"])
    video = torch.from_numpy(np.random.default_rng(0).integers(0, 255, (30, 48, 64, 3), dtype=np.uint8))
    clips = processor.preprocess_pretraining(video, rng=np.random.default_rng(1))["pixel_values_videos"][0]
    assert clips.shape == (3, 4, 3, 32, 32)
    assert not torch.allclose(clips[0], clips[1]) and not torch.allclose(clips[1], clips[2])


@pytest.mark.parametrize("shared", [False, True])
def test_processor_shared_augmentation_gives_every_clip_of_a_video_the_same_draw(shared):
    """On a still video the clips differ only by their augmentation: one draw per video, or one per clip."""
    processor = TransRankVideoProcessor(
        num_frames=4, crop_size={"height": 32, "width": 32}, transformations=["1x", "2x", "reverse"], shared_augmentation=shared
    )
    still = torch.from_numpy(np.random.default_rng(0).integers(0, 255, (1, 48, 64, 3), dtype=np.uint8)).expand(30, -1, -1, -1)
    for seed in range(3):
        torch.manual_seed(seed)
        clips = processor.preprocess_pretraining(still, rng=np.random.default_rng(seed))["pixel_values_videos"][0]
        assert torch.equal(clips[0], clips[1]) and torch.equal(clips[1], clips[2]) if shared else not torch.equal(clips[0], clips[1])
        assert torch.equal(clips[0, 0], clips[0, 3]), "one draw for all frames of a clip"
    config = hfvid.get_config("transrank-r3d18-tiny", shared_augmentation=shared)
    assert TransRankVideoProcessor.from_model_config(config).shared_augmentation is shared


def test_processor_evaluation_mode_takes_a_middle_1x_clip(numbered_mp4):
    processor = TransRankVideoProcessor(num_frames=8, size={"shortest_edge": 36}, crop_size={"height": 32, "width": 32})
    with VideoReader(numbered_mp4) as reader:
        video = reader.get_frames(range(reader.metadata.num_frames))
    output = processor(video, return_tensors="pt")
    assert output["pixel_values_videos"].shape == (1, 8, 3, 32, 32)
    restored = (output["pixel_values_videos"][0] * torch.tensor(processor.image_std).view(1, 3, 1, 1) + torch.tensor(processor.image_mean).view(1, 3, 1, 1)) * 255
    assert frame_index_of(restored.round()).tolist() == list(range(26, 34))


def test_save_and_auto_classes_round_trip(tmp_path):
    model, _ = save_tiny_transrank(tmp_path)
    config = model.config
    assert (tmp_path / "model.safetensors").is_file()
    assert isinstance(AutoConfig.from_pretrained(tmp_path), TransRankConfig)
    reloaded = AutoModelForPreTraining.from_pretrained(tmp_path).eval()
    assert isinstance(reloaded, TransRankForPreTraining)
    clips = tiny_clips(config)
    assert torch.equal(model(pixel_values_videos=clips).scores["temporal"], reloaded(pixel_values_videos=clips).scores["temporal"])

    backbone = AutoModel.from_pretrained(tmp_path).eval()
    assert isinstance(backbone, TransRankModel)
    assert torch.equal(backbone(pixel_values_videos=clips[:, 0]).pooler_output, model.transrank(pixel_values_videos=clips[:, 0]).pooler_output)
    classifier = AutoModelForVideoClassification.from_pretrained(tmp_path, num_labels=3)
    assert isinstance(classifier, TransRankForVideoClassification) and classifier.config.num_labels == 3

    loaded_processor = AutoVideoProcessor.from_pretrained(tmp_path)
    assert isinstance(loaded_processor, TransRankVideoProcessor)
    assert loaded_processor.transformations == config.transformations and loaded_processor.num_frames == 8


def test_video_classification_pipeline_on_a_real_mp4(tmp_path, numbered_mp4):
    labels = dict(id2label={0: "left", 1: "right"}, label2id={"left": 0, "right": 1})
    save_tiny_transrank(tmp_path, model_class=TransRankForVideoClassification, **labels)
    predictions = pipeline("video-classification", model=str(tmp_path))(numbered_mp4)
    assert sorted(p["label"] for p in predictions) == ["left", "right"]
    assert sum(p["score"] for p in predictions) == pytest.approx(1.0, abs=1e-4)


def test_trust_remote_code_loading_without_hfvid(tmp_path, numbered_mp4):
    """A saved folder carries its code: a Python without hfvid loads it with trust_remote_code=True
    and computes the same features."""
    model, processor = save_tiny_transrank(tmp_path)
    auto_map = json.loads((tmp_path / "config.json").read_text())["auto_map"]
    assert auto_map["AutoModel"] == "modeling_transrank.TransRankModel"
    with VideoReader(numbered_mp4) as reader:
        video = reader.get_frames(range(reader.metadata.num_frames))
    expected = model.transrank(**processor(video, return_tensors="pt")).pooler_output
    torch.save(video, tmp_path / "video.pt")

    result = run_without_hfvid(
        f"""
        import torch
        from transformers import AutoModel, AutoVideoProcessor
        folder = {str(tmp_path)!r}
        model = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
        processor = AutoVideoProcessor.from_pretrained(folder, trust_remote_code=True)
        features = model(**processor(torch.load(folder + "/video.pt"), return_tensors="pt")).pooler_output
        print(type(model).__module__)
        torch.save(features, folder + "/features.pt")
        """,
        tmp_path,
    )
    assert result.stdout.strip().startswith("transformers_modules.")
    assert torch.allclose(torch.load(tmp_path / "features.pt"), expected, atol=1e-6)
