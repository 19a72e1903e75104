"""PretrainingClips' decode cache: the same samples as without it, each kept video decoded once over the epochs,
the videos that do not fit read as before, and nothing kept in loader workers (real mp4 files, real datasets)."""

from pathlib import Path

import datasets
import pytest
import torch
from torch.utils.data import DataLoader

import hfvid
from hfvid.data import pretraining
from hfvid.data.pretraining import PretrainingClips, collate_pretraining
from hfvid.models import processor_for_config


@pytest.fixture(scope="module")
def videos(synthmotion_dir) -> datasets.Dataset:
    paths = sorted(str(path) for path in Path(synthmotion_dir, "train").rglob("*.mp4"))[:4]
    return datasets.Dataset.from_dict({"video": paths})


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    """The videos `PretrainingClips` opens, in order (the real `open_video`, counted)."""
    calls, real = [], pretraining.open_video
    monkeypatch.setattr(pretraining, "open_video", lambda video, **kwargs: calls.append(video) or real(video, **kwargs))
    return calls


def epochs(stream: PretrainingClips, count: int = 2) -> list[list[dict]]:
    out = []
    for epoch in range(count):
        stream.set_epoch(epoch)
        out.append(list(stream))
    return out


def assert_same(ours: list[list[dict]], theirs: list[list[dict]]) -> None:
    for epoch_ours, epoch_theirs in zip(ours, theirs, strict=True):
        for a, b in zip(epoch_ours, epoch_theirs, strict=True):
            assert a["video_id"] == b["video_id"] and a["views"].keys() == b["views"].keys()
            for name in a["views"]:
                assert torch.equal(a["views"][name], b["views"][name])


def processor():
    return processor_for_config(hfvid.get_config("nextframe-r3d18-tiny"))


def test_each_video_is_decoded_once_and_the_samples_are_the_same(videos, opened):
    plain = epochs(PretrainingClips(videos, processor()))
    assert len(opened) == 8  # 4 videos, 2 epochs
    opened.clear()
    stream = PretrainingClips(videos, processor(), decode_cache_mb=16)
    assert_same(epochs(stream), plain)
    assert opened == list(videos["video"])  # each once, in the first epoch
    assert len(stream.decoded) == 4 and stream.decoded_bytes == sum(v.frames.numel() for v in stream.decoded.values())


def test_the_videos_that_do_not_fit_are_read_as_before(videos, opened):
    plain = epochs(PretrainingClips(videos, processor()))
    one_video = 24 * 3 * 32 * 32  # conftest's tiny SynthMotion: 24 frames at 32 x 32
    opened.clear()
    stream = PretrainingClips(videos, processor(), decode_cache_mb=2.5 * one_video / 2**20)
    assert_same(epochs(stream), plain)
    assert len(stream.decoded) == 2 and stream.decoded_bytes == 2 * one_video
    kept = {path for path in videos["video"] if pretraining.video_id(path) in stream.decoded}
    assert sorted(opened) == sorted(list(videos["video"]) + [path for path in videos["video"] if path not in kept])


def test_a_loader_worker_keeps_nothing(videos):
    stream = PretrainingClips(videos, processor(), decode_cache_mb=16)
    batches = list(DataLoader(stream, batch_size=2, num_workers=1, collate_fn=collate_pretraining))
    assert sum(batch["num_videos"] for batch in batches) == 4
    path = videos[0]["video"]
    with stream.open(path, pretraining.video_id(path), in_worker=True) as reader:  # as a worker opens it: read as without a cache
        assert type(reader).__name__ == "VideoReader" and not stream.decoded
    plain = list(DataLoader(PretrainingClips(videos, processor()), batch_size=2, num_workers=1, collate_fn=collate_pretraining))
    for ours, theirs in zip(batches, plain, strict=True):
        assert torch.equal(ours["pixel_values_videos"], theirs["pixel_values_videos"])
