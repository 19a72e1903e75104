"""The corpus of unreadable videos (tests/bad_videos.py, 22 kinds made at test time) through every entry point
that takes a video: `VideoReader` (both backends, in tests/test_decoding.py), every method's video processor, the
pre-training stream, the fine-tuning collator, feature extraction for evaluation, `pretrain.py` and
`finetune.py` over a folder that holds them, and the Space. Each entry point either raises one error that names
the file and the reason, or (long runs) skips the video, counts it once and lists it with its reason."""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import shutil
from pathlib import Path

import datasets
import pytest
import torch
from bad_videos import REASONS, folder_kinds, make_bad_videos
from conftest import numbered_frames, run_in_process, save_tiny_transrank

import hfvid
from hfvid.data import pretraining
from hfvid.data.collators import VideoClassificationCollator
from hfvid.data.decoding import VideoDecodeError
from hfvid.data.encoding import write_mp4
from hfvid.data.pretraining import PretrainingClips
from hfvid.evaluation.features import extract_features
from hfvid.models import processor_for_config

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("transrank", "moco", "simclr", "byol", "simsiam", "rince", "bfp", "brave", "lsfd", "hdc", "nextframe")
# Decodable in part: a clip that stays within the frames before the cut reads fine, one that reaches past it
# fails (tested through VideoReader, which reads every frame).
PARTLY_READABLE = {"truncated_after_the_index"}
# A valid video with fewer frames than a clip: pre-training and fine-tuning fill the clip by their
# ``short_video_policy`` (documented in hfvid.data.sampling); a processor asked for a clip at inference refuses.
SHORT = {"too_short_for_a_clip"}
ALWAYS_UNREADABLE = set(REASONS) - PARTLY_READABLE - SHORT


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("bad")
    good = write_mp4(root / "good.mp4", numbered_frames(60), fps=25, crf=0, keyframe_interval=10)
    return make_bad_videos(root / "corpus", good)


@pytest.fixture(scope="module")
def good_videos(synthmotion_dir) -> list[str]:
    return [str(path) for path in sorted(Path(synthmotion_dir, "train").rglob("*.mp4"))[:4]]


def processor_of(method: str):
    return processor_for_config(hfvid.get_config(f"{method}-r3d18-tiny"))


def test_the_corpus_has_at_least_20_unreadable_kinds(corpus):
    assert len(ALWAYS_UNREADABLE) >= 20 and set(corpus) == set(REASONS)


@pytest.mark.parametrize("method", METHODS)
def test_every_processor_names_the_file_and_the_reason(corpus, method):
    processor = processor_of(method)
    for kind, path in corpus.items():
        if kind in PARTLY_READABLE:
            continue
        with pytest.raises(ValueError) as error:
            processor(path, return_tensors="pt")
        message = str(error.value)
        assert os.path.basename(path) in message, (kind, message)
        if kind in SHORT:
            assert "of a video of 2 frames" in message
        else:
            assert isinstance(error.value, VideoDecodeError) and error.value.source == path, (kind, message)
            assert re.search(REASONS[kind], error.value.reason), (kind, message)


def with_good(corpus, good_videos) -> list[str]:
    """The corpus between readable videos, as a folder of a user's holds them."""
    return [good_videos[0], *corpus.values(), *good_videos[1:]]


@pytest.mark.parametrize("method", METHODS)
def test_the_pretraining_stream_skips_each_and_says_why(corpus, good_videos, method):
    rows = with_good(corpus, good_videos)
    stream = PretrainingClips(datasets.Dataset.from_dict({"video": rows}), processor_of(method))
    samples = list(stream)
    skipped = {row["video"]: row["reason"] for sample in samples for row in sample["skipped"]}
    readable = [sample for sample in samples if sample["views"] is not None]
    assert {corpus[kind] for kind in ALWAYS_UNREADABLE} <= set(skipped) <= {corpus[kind] for kind in ALWAYS_UNREADABLE | PARTLY_READABLE}
    assert len(readable) == len(rows) - len(skipped)  # the short video is filled by the sampling policy
    for path, reason in skipped.items():
        assert os.path.basename(path) in reason and reason.strip(), reason


@pytest.mark.parametrize("method", ["transrank", "nextframe"])
def test_the_decode_cache_skips_the_same_videos_and_gives_the_same_views(corpus, good_videos, method):
    """Each video is decoded whole for the cache; the partly readable one fails whole and falls back to reading its
    clips, as without a cache. The second pass reads the kept frames."""
    rows = datasets.Dataset.from_dict({"video": with_good(corpus, good_videos)})
    plain = list(PretrainingClips(rows, processor_of(method)))
    cached = PretrainingClips(rows, processor_of(method), decode_cache_mb=64)
    for samples in (list(cached), list(cached)):
        for ours, theirs in zip(samples, plain, strict=True):
            assert ours["skipped"] == theirs["skipped"] and (ours["views"] is None) == (theirs["views"] is None)
            for name in ours["views"] or {}:
                assert torch.equal(ours["views"][name], theirs["views"][name])
    assert len(cached.decoded) == len(good_videos) + len(SHORT)  # the unreadable and the partly readable: not kept
    assert cached.not_whole == {pretraining.video_id(corpus[kind]) for kind in PARTLY_READABLE}  # not tried whole again


def test_the_fine_tuning_collator_skips_each_and_names_it(corpus, good_videos):
    rows = with_good(corpus, good_videos)
    for train in (True, False):
        collator = VideoClassificationCollator(processor_of("transrank"), train=train)
        batch = collator([{"video": path, "label": index % 8} for index, path in enumerate(rows)])
        unreadable = set(collator.unreadable)
        assert {corpus[kind] for kind in ALWAYS_UNREADABLE} <= unreadable <= {corpus[kind] for kind in ALWAYS_UNREADABLE | PARTLY_READABLE}
        assert batch["pixel_values_videos"].shape[0] == len(rows) - len(unreadable)


def test_feature_extraction_leaves_each_out_and_logs_it(corpus, good_videos, caplog):
    rows = with_good(corpus, good_videos)
    dataset = datasets.Dataset.from_dict({"video": rows, "label": list(range(len(rows)))})
    model = hfvid_model("transrank")
    with caplog.at_level(logging.WARNING, logger="hfvid.evaluation.features"):
        features, labels = extract_features(model, processor_of("transrank"), dataset, batch_size=4, progress=False)
    logged = caplog.text
    left_out = {kind for kind, path in corpus.items() if rows.index(path) not in labels.tolist()}
    assert ALWAYS_UNREADABLE <= left_out <= ALWAYS_UNREADABLE | PARTLY_READABLE
    assert len(features) == len(rows) - len(left_out)
    for kind in left_out:
        assert os.path.basename(corpus[kind]) in logged, kind


def hfvid_model(method: str):
    from transformers import AutoModel

    return AutoModel.from_config(hfvid.get_config(f"{method}-r3d18-tiny")).eval()


@pytest.fixture(scope="module")
def user_folder(corpus, good_videos, tmp_path_factory) -> Path:
    """A user's class folders: 4 readable videos in two classes, and every kind of the corpus a listing finds."""
    folder = tmp_path_factory.mktemp("user") / "videos"
    for index, video in enumerate(good_videos):
        (folder / f"class{index % 2}").mkdir(parents=True, exist_ok=True)
        shutil.copy(video, folder / f"class{index % 2}" / f"good{index}.mp4")
    for kind in folder_kinds():
        target = folder / "class0" / Path(corpus[kind]).name
        if os.path.islink(corpus[kind]):
            os.symlink(os.readlink(corpus[kind]), target)
        elif os.path.isdir(corpus[kind]):
            target.mkdir()
        else:
            shutil.copy(corpus[kind], target)
    return folder


def listed_unreadable(output_dir: Path) -> dict[str, str]:
    rows = [json.loads(line) for line in (output_dir / "unreadable_videos.jsonl").read_text().splitlines()]
    assert len(rows) == len({row["video"] for row in rows})  # each once
    return {Path(row["video"]).name: row["reason"] for row in rows}


def expected_names(corpus, kinds) -> set[str]:
    return {Path(corpus[kind]).name for kind in kinds}


def test_pretrain_py_skips_lists_and_finishes(user_folder, corpus, tmp_path):
    out = tmp_path / "run"
    summary = run_in_process(
        ["--model", "transrank-r3d18-tiny", "--batch_size", "2", "--warmup_steps", "1", "--no_evaluate",
         "--dataset", str(user_folder), "--max_steps", "4", "--output_dir", str(out)]  # fmt: skip
    )  # at most 6 readable videos (4 good, a truncated one, a short one): 3 batches of 2 a pass, so the 4th step is in
    # the second pass, and the first pass met every file, those after the last readable one included (the worker's
    # last, incomplete batch reports them)
    assert summary["steps"] == 4 and (out / "model.safetensors").is_file()
    listed = listed_unreadable(out)
    kinds = set(folder_kinds())
    assert expected_names(corpus, kinds & ALWAYS_UNREADABLE) <= set(listed) <= expected_names(corpus, kinds - SHORT)
    assert summary["num_skipped_videos"] == len(listed)
    assert all(reason.strip() for reason in listed.values())


def test_finetune_py_skips_lists_and_finishes(user_folder, corpus, tmp_path):
    import finetune

    model = tmp_path / "pretrained"
    save_tiny_transrank(model)
    out = tmp_path / "finetuned"
    metrics = finetune.finetune(
        finetune.build_parser().parse_args(
            ["--model", str(model), "--dataset", str(user_folder), "--num_train_epochs", "1",
             "--per_device_train_batch_size", "2", "--output_dir", str(out)]  # fmt: skip
        )
    )  # one epoch, then the evaluation on a held-out part of the folder (no test split): every file is met once
    # The held-out part is chosen by a hash of each (temporary) path: it may hold no readable video, and then the
    # run says so instead of failing.
    assert 0.0 <= metrics.get("eval_accuracy", 0.0) <= 1.0
    assert "eval_accuracy" in metrics or "no readable video" in metrics["eval_error"]
    assert (out / "model.safetensors").is_file()
    listed = listed_unreadable(out)
    kinds = set(folder_kinds())
    assert expected_names(corpus, kinds & ALWAYS_UNREADABLE) <= set(listed) <= expected_names(corpus, kinds - SHORT)


@pytest.fixture(scope="module")
def space():
    return importlib.import_module("hfvid.cli.space")


def test_the_space_says_which_upload_and_why(space, corpus):
    import gradio as gr
    from transformers import AutoModelForPreTraining

    model = AutoModelForPreTraining.from_config(hfvid.get_config("transrank-r3d18-tiny")).eval()
    processor = processor_of("transrank")
    for kind, path in corpus.items():
        if kind in PARTLY_READABLE | SHORT:
            continue
        with pytest.raises(gr.Error) as error:
            with space.open_video(path) as reader:
                space.transformation_scores(model, processor, reader)
        message = error.value.message
        assert message.startswith(f"{os.path.basename(path)} could not be read as a video: "), (kind, message)
        assert re.search(REASONS[kind], message) and os.path.dirname(path) not in message, (kind, message)
