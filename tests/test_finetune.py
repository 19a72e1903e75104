"""training/finetune.py: Trainer fine-tuning from a pre-trained hfvid checkpoint on SynthMotion."""

import json
import sys
from pathlib import Path

import pytest
import torch
from conftest import save_tiny_transrank
from huggingface_hub import ModelCard
from transformers import AutoModelForVideoClassification

import hfvid
from hfvid.data.collators import VideoClassificationCollator
from hfvid.data.decoding import VideoDecodeError
from hfvid.data.synthetic import SYNTHMOTION_CLASSES, load_synthmotion
from hfvid.hub.push import files_to_upload
from hfvid.models.transrank import TransRankVideoProcessor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
import finetune  # noqa: E402


def test_finetune_a_few_steps_from_a_pretrained_checkpoint(synthmotion_dir, tmp_path):
    pretrained, _ = save_tiny_transrank(tmp_path / "pretrained")
    out = tmp_path / "finetuned"
    metrics = finetune.finetune(
        finetune.build_parser().parse_args(
            ["--model", str(tmp_path / "pretrained"), "--dataset", synthmotion_dir, "--output_dir", str(out),
             "--max_steps", "3", "--per_device_train_batch_size", "4", "--logging_steps", "1"]
        )
    )
    assert 0.0 <= metrics["eval_accuracy"] <= 1.0
    assert json.loads((out / "eval_results.json").read_text())["eval_accuracy"] == metrics["eval_accuracy"]
    model = AutoModelForVideoClassification.from_pretrained(out)
    assert [model.config.id2label[i] for i in range(8)] == list(SYNTHMOTION_CLASSES)
    # Started from the pre-trained backbone: the stem moved only by 3 small steps.
    start = pretrained.transrank.backbone.stem.conv.weight
    assert torch.allclose(model.transrank.backbone.stem.conv.weight, start, atol=0.05)
    assert not torch.equal(model.transrank.backbone.stem.conv.weight, start)
    # Its card: what it was fine-tuned from and on, its accuracy beside chance, Hub-valid metadata.
    card = ModelCard.load(out / "README.md", ignore_metadata_errors=False)
    assert card.data.pipeline_tag == "video-classification" and card.data.eval_results[0].metric_value == metrics["eval_accuracy"]
    assert f"`{tmp_path / 'pretrained'}`" in card.text and "chance (always the most frequent class): 12.5%" in card.text
    assert 'pipeline("video-classification", model="hfvid/finetuned")' in card.text
    # A push publishes weights, processor, code and card, not the Trainer's logs and state.
    uploaded = {path.as_posix() for path in files_to_upload(out)}
    assert {"README.md", "model.safetensors", "config.json"} <= uploaded
    assert not any(name.startswith(("runs/", "checkpoint-")) or name == "training_args.bin" for name in uploaded)


def test_collator_drops_unreadable_videos_and_names_them(synthmotion_dir, tmp_path):
    processor = TransRankVideoProcessor.from_model_config(hfvid.get_config("transrank-r3d18-tiny"))
    dataset = load_synthmotion(synthmotion_dir, split="train", decode=False)
    (tmp_path / "bad.mp4").write_text("not a video")
    examples = [dataset[0], {"video": {"path": str(tmp_path / "bad.mp4"), "bytes": None}, "label": 3}, dataset[1]]
    for train in (True, False):
        batch = VideoClassificationCollator(processor, train=train)(examples)
        assert batch["pixel_values_videos"].shape == (2, 8, 3, 32, 32)
        assert batch["labels"].tolist() == [dataset[0]["label"], dataset[1]["label"]]
    with pytest.raises(VideoDecodeError, match="bad.mp4"):  # nothing readable yet: a clear error
        VideoClassificationCollator(processor, train=True)(examples[1:2])
    collator = VideoClassificationCollator(processor, train=False)
    first = collator(examples)
    only_bad = collator(examples[1:2])  # later, an all-unreadable batch repeats the last readable example
    assert only_bad["labels"].tolist() == [dataset[1]["label"]]
    assert torch.equal(only_bad["pixel_values_videos"][0], first["pixel_values_videos"][-1])
    assert list(collator.unreadable) == [str(tmp_path / "bad.mp4")]


def test_mirrored_labels_swap_left_right_and_clockwise():
    from hfvid.data.collators import mirrored_labels

    assert mirrored_labels(list(SYNTHMOTION_CLASSES)) == [1, 0, 2, 3, 5, 4, 6, 7]
    something = ["Pushing something from left to right", "Pushing something from right to left", "Tearing something"]
    assert mirrored_labels(something) == [1, 0, 2]
    assert mirrored_labels(["turn clockwise", "turn anticlockwise"]) == [1, 0]
    with pytest.raises(ValueError, match="'walk left'.*'walk right' is not a class.*flip_p=0"):
        mirrored_labels(["walk left", "jump"])


def test_training_flip_flips_the_motion_label_with_the_pixels(synthmotion_dir):
    """A flipped translate_left clip is a translate_right clip: the collator's label must follow the pixels."""
    processor = TransRankVideoProcessor.from_model_config(hfvid.get_config("transrank-r3d18-tiny"))
    dataset = load_synthmotion(synthmotion_dir, split="train", decode=False)
    left = [example for example in dataset if SYNTHMOTION_CLASSES[example["label"]] == "translate_left"][0]
    names = list(SYNTHMOTION_CLASSES)
    torch.manual_seed(0)
    flipping = VideoClassificationCollator(processor, train=True, flip_p=1.0, class_names=names)
    assert flipping.augment.transform.transforms[0].scale == tuple(processor.crop_scale) == (1.0, 1.0), "the preset's crop"
    assert flipping([left] * 4)["labels"].tolist() == [names.index("translate_right")] * 4
    never = VideoClassificationCollator(processor, train=True, flip_p=0.0, class_names=names)
    assert never([left] * 4)["labels"].tolist() == [names.index("translate_left")] * 4
    torch.manual_seed(0)
    flipped = flipping([left])["pixel_values_videos"]
    torch.manual_seed(0)
    unflipped = never([left])["pixel_values_videos"]
    assert torch.equal(flipped, unflipped.flip(-1)), "same crop, mirrored"


def test_finetune_from_a_preset_trains_random_weights_with_labels(synthmotion_dir, tmp_path):
    out = tmp_path / "supervised"
    argv = ["--model", "transrank-r3d18-tiny", "--dataset", synthmotion_dir, "--output_dir", str(out),
            "--max_steps", "2", "--per_device_train_batch_size", "4", "--seed", "3"]  # fmt: skip
    metrics = finetune.finetune(finetune.build_parser().parse_args(argv))
    assert 0.0 <= metrics["eval_accuracy"] <= 1.0
    model = AutoModelForVideoClassification.from_pretrained(out)
    assert model.config.num_labels == 8 and model.config.id2label[0] == "translate_left"
    again = tmp_path / "again"
    finetune.finetune(finetune.build_parser().parse_args([*argv[:5], str(again), *argv[6:]]))
    reloaded = AutoModelForVideoClassification.from_pretrained(again)
    torch.testing.assert_close(reloaded.state_dict(), model.state_dict())  # seeded: the same random init and run


def test_finetune_config_overrides_change_a_preset_and_refuse_a_trained_model(synthmotion_dir, tmp_path):
    out = tmp_path / "difference"
    overrides = "backbone={arch: r3d, layers: [1, 1, 1, 1], widths: [8, 16, 32, 64], stem_width: 8, input: frame_difference},classifier_dropout=0.25"
    argv = ["--model", "transrank-r3d18-tiny", "--dataset", synthmotion_dir, "--output_dir", str(out), "--max_steps", "1",
            "--per_device_train_batch_size", "4", "--config_overrides", overrides]  # fmt: skip
    finetune.finetune(finetune.build_parser().parse_args(argv))
    model = AutoModelForVideoClassification.from_pretrained(out)
    assert model.config.backbone["input"] == "frame_difference" and model.config.classifier_dropout == 0.25
    with pytest.raises(ValueError, match=r"--config_overrides applies to a preset --model .* is a trained model"):
        finetune.finetune(finetune.build_parser().parse_args(["--model", str(out), *argv[2:]]))
