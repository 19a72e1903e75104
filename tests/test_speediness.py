"""hfvid.evaluation.speediness: speed clip sampling, task lookup, scores, summary and plot."""

import numpy as np
import pytest
import torch

from hfvid.data.decoding import open_video
from hfvid.data.sampling import sliding_clips
from hfvid.data.synthetic import load_synthmotion
from hfvid.evaluation.speediness import (
    DEFAULT_SPEEDS,
    _video_clips,
    plot_speediness,
    same_start_clip_indices,
    speed_clip_indices,
    speediness_scores,
    speediness_summary,
    speediness_task,
    whole_video_speediness,
)
from hfvid.models.transrank.modeling_transrank import TransRankForPreTraining
from hfvid.models.transrank.video_processing_transrank import TransRankVideoProcessor
from hfvid.presets import get_config

SPEED_TASK = [{"name": "speed", "transformations": ["1x", "2x"]}]


def tiny_model(tasks=SPEED_TASK) -> TransRankForPreTraining:
    torch.manual_seed(0)
    return TransRankForPreTraining(get_config("transrank-r3d18-tiny", tasks=tasks)).eval()


@pytest.fixture(scope="module")
def test_videos(synthmotion_dir):
    return load_synthmotion(synthmotion_dir, split="test", decode=False)["video"]


def test_speed_clips_have_the_exact_stride_and_half_speed_repeats_frames():
    rng = np.random.default_rng(0)
    half = speed_clip_indices(48, 8, 0.5, rng)
    assert np.array_equal(half[0::2], half[1::2])
    assert np.array_equal(np.diff(half[0::2]), np.ones(3))
    for speed in (1, 2, 4):
        assert np.array_equal(np.diff(speed_clip_indices(48, 8, speed, rng)), np.full(7, speed))


def test_same_start_clips_show_one_moment_at_each_speed():
    for seed in range(50):
        clips = same_start_clip_indices(40, 8, (0.5, 1, 2, 4), np.random.default_rng(seed))
        assert clips.shape == (4, 8)
        assert len(set(clips[:, 0])) == 1  # one start
        assert clips[0, 0] + 28 <= 39  # where the 4x clip fits: no speed loops
        for row, speed in zip(clips, (0.5, 1, 2, 4)):
            assert np.array_equal(row - row[0], np.floor(np.arange(8) * speed))
    starts = {same_start_clip_indices(40, 8, (1, 4), np.random.default_rng(seed))[0, 0] for seed in range(200)}
    assert starts == set(range(12))  # every start where the 4x clip fits is drawn
    assert same_start_clip_indices(20, 8, (1, 4), np.random.default_rng(0))[1].tolist() == [0, 4, 8, 12, 16, 0, 4, 8]


def test_clips_of_one_position_start_on_the_same_frame_only_with_same_start(test_videos):
    """Each speed's clip at a position begins with the same frame with same_start (the default), and with
    other frames without it."""
    model = tiny_model()
    processor = TransRankVideoProcessor.from_model_config(model.config)
    speeds, clips = (0.5, 1.0, 2.0), 3

    def first_frames(same_start):
        x = _video_clips(test_videos[0], processor, speeds, clips, np.random.default_rng(0), "torchcodec", same_start)
        return x[:, 0].view(len(speeds), clips, -1)  # (speed, clip, C * H * W)

    same, independent = first_frames(True), first_frames(False)
    assert all(torch.equal(same[0], same[i]) for i in range(1, len(speeds)))
    assert not torch.equal(same[0, 0], same[0, 1])  # the positions themselves differ
    assert not any(torch.equal(independent[0], independent[i]) for i in range(1, len(speeds)))


def test_whole_video_speediness_is_the_mean_over_every_clip_of_the_video(test_videos, tmp_path):
    """Each video's mean speediness at each speed equals the mean over all its clips processed one by one as
    `speediness_scores` processes clips; unreadable videos are left out; batching changes nothing."""
    model = tiny_model()
    processor = TransRankVideoProcessor.from_model_config(model.config)
    speeds = (0.5, 1.0, 2.0, 4.0)  # these 24-frame videos have no 4x clip that fits: one looped clip from frame 0
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    videos = [test_videos[0], str(broken), test_videos[1]]
    means = whole_video_speediness(model, processor, videos, speeds, progress=False, batch_size=7)
    assert list(means) == list(speeds) and all(m.shape == (2,) for m in means.values())
    for position, video in enumerate([test_videos[0], test_videos[1]]):
        with open_video(video) as reader:
            num_frames = reader.metadata.num_frames
            for speed in speeds:
                indices = sliding_clips(num_frames, processor.num_frames, speed)
                assert len(indices) == max(1, num_frames - int(7 * speed))
                clips = list(reader.get_frames(indices.reshape(-1)).split(processor.num_frames))
                pixels = processor(clips, do_sample_frames=False, return_tensors="pt")["pixel_values_videos"]
                scores = model.score_transformations(pixels)["speed"]
                expected = (scores[:, 1] - scores[:, 0]).mean()
                torch.testing.assert_close(means[speed][position], expected, atol=1e-4, rtol=1e-4)
    again = whole_video_speediness(model, processor, videos, speeds, progress=False, batch_size=64)
    assert all(torch.allclose(means[speed], again[speed], atol=1e-5) for speed in speeds)
    summary = speediness_summary(means, clips_per_video=1)
    assert summary["count"] == dict.fromkeys(speeds, 2) and 0 <= summary["videos_ordered"] <= 1
    with pytest.raises(ValueError, match="no readable video"):
        whole_video_speediness(model, processor, [str(broken)], progress=False)
    with pytest.raises(ValueError, match="distinct positive"):
        whole_video_speediness(model, processor, videos, (1.0, 1.0), progress=False)


def test_task_lookup():
    tasks = TransRankForPreTraining(get_config("transrank-r3d18")).transformation_tasks  # 1x/2x/reverse + rotation
    assert tasks == {"temporal": ["1x", "2x", "reverse"], "spatial": ["rot0", "rot90", "rot180", "rot270"]}
    assert speediness_task(tasks) == "temporal"
    assert speediness_task(tasks, "temporal") == "temporal"
    with pytest.raises(ValueError, match="'1x' and '2x'"):
        speediness_task(tasks, "spatial")
    with pytest.raises(ValueError, match="found none"):
        speediness_task({"rotation": ["rot0", "rot90"]})
    with pytest.raises(ValueError, match="several"):
        speediness_task({"speed": ["1x", "2x"], "more": ["2x", "1x", "4x"]})


def test_scores_per_speed_are_deterministic_for_a_seed(test_videos):
    test_videos = test_videos[:4]
    model = tiny_model()
    processor = TransRankVideoProcessor.from_model_config(model.config)
    scores = speediness_scores(model, processor, test_videos, progress=False, batch_size=5)
    assert list(scores) == list(DEFAULT_SPEEDS)
    assert all(s.shape == (len(test_videos) * 2,) and s.dtype == torch.float32 for s in scores.values())
    assert all(torch.isfinite(s).all() for s in scores.values())
    again = speediness_scores(model, processor, test_videos, progress=False, batch_size=16)  # batching changes nothing
    assert all(torch.allclose(scores[speed], again[speed], atol=1e-5) for speed in scores)
    # another seed draws other clips (up to 2x: these 24-frame videos are too short for an 8-frame 4x clip, so
    # with 4x among the speeds every clip starts at frame 0, as in pre-training)
    up_to_2x = speediness_scores(model, processor, test_videos, speeds=(0.5, 1, 2), progress=False)
    other_seed = speediness_scores(model, processor, test_videos, speeds=(0.5, 1, 2), seed=1, progress=False)
    assert not all(torch.allclose(up_to_2x[speed], other_seed[speed]) for speed in up_to_2x)
    any_moment = speediness_scores(model, processor, test_videos, progress=False, same_start=False)
    assert not all(torch.allclose(scores[speed], any_moment[speed]) for speed in scores)


def test_speediness_is_the_2x_score_minus_the_1x_score(test_videos):
    """With a head that outputs constants, the speediness is known, whatever the column order."""
    model = tiny_model(tasks=[{"name": "pace", "transformations": ["2x", "reverse", "1x"]}])
    last_layer = model.heads["pace"][-1]
    torch.nn.init.zeros_(last_layer.weight)
    last_layer.bias.data = torch.tensor([5.0, 9.0, 2.0])
    processor = TransRankVideoProcessor.from_model_config(model.config)
    scores = speediness_scores(model, processor, test_videos[:2], speeds=(1, 3), clips_per_video=1, progress=False)
    assert list(scores) == [1.0, 3.0]
    assert torch.equal(scores[3.0], torch.full((2,), 3.0))


def test_scores_need_a_1x_2x_task(test_videos):
    model = tiny_model(tasks=[{"name": "rotation", "transformations": ["rot0", "rot90"]}])
    with pytest.raises(ValueError, match="'1x' and '2x'"):
        speediness_scores(model, TransRankVideoProcessor.from_model_config(model.config), test_videos, progress=False)


def test_summary_tells_whether_the_means_rise_with_speed():
    ordered = {2.0: torch.tensor([1.0, 3.0]), 0.5: torch.tensor([-2.0, -2.0]), 1.0: torch.tensor([-3.0, 1.0])}
    summary = speediness_summary(ordered)
    assert summary["mean"] == {0.5: -2.0, 1.0: -1.0, 2.0: 2.0}
    assert summary["std"] == {0.5: 0.0, 1.0: 2.0, 2.0: 1.0}
    assert summary["count"] == {0.5: 2, 1.0: 2, 2.0: 2}
    assert summary["ordered"]
    assert summary["pair_order"] == {"0.5x<1x": 0.5, "1x<2x": 1.0}
    assert not speediness_summary({**ordered, 4.0: torch.tensor([2.0])})["ordered"]  # ties are not ordered
    assert "videos_ordered" not in summary
    # two videos of two clips each: the first's means rise (-2, 0, 3), the second's do not (-2, -2, 3)
    two_videos = {0.5: torch.tensor([-2.0, -2.0, -2.0, -2.0]), 1.0: torch.tensor([-1.0, 1.0, -3.0, -1.0]), 2.0: torch.tensor([3.0, 3.0, 3.0, 3.0])}
    assert speediness_summary(two_videos, clips_per_video=2)["videos_ordered"] == 0.5
    assert speediness_summary(two_videos, clips_per_video=4)["videos_ordered"] == 1.0


def test_plot_writes_a_png(tmp_path):
    generator = torch.Generator().manual_seed(0)
    scores = {speed: torch.randn(10, generator=generator) + speed for speed in DEFAULT_SPEEDS}
    path = plot_speediness({"TransRank": scores, "TransCls": {s: -v for s, v in scores.items()}}, tmp_path / "fig" / "s.png")
    assert path == str(tmp_path / "fig" / "s.png")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="empty"):
        plot_speediness({}, tmp_path / "empty.png")
