import numpy as np
import pytest

from hfvid.data.sampling import (
    SHORT_VIDEO_POLICIES,
    TEMPORAL_TRANSFORMATIONS,
    clip_at,
    fit_to_video,
    nearby_clips,
    random_clip,
    random_clips,
    sliding_clips,
    temporal_transformation_clip,
    transformation_speed,
    uniform_clips,
)


def rng(seed=0):
    return np.random.default_rng(seed)


def test_fit_to_video_policies():
    positions = np.arange(8)
    assert fit_to_video(positions, 5, "loop").tolist() == [0, 1, 2, 3, 4, 0, 1, 2]
    assert fit_to_video(positions, 5, "clamp").tolist() == [0, 1, 2, 3, 4, 4, 4, 4]
    assert fit_to_video(positions, 5).dtype == np.int64
    with pytest.raises(ValueError, match="num_frames"):
        fit_to_video(positions, 0)
    with pytest.raises(ValueError, match="policy"):
        fit_to_video(positions, 5, "pad")
    with pytest.raises(ValueError, match=">= 0"):
        fit_to_video([-1, 0], 5)


def test_clip_at_starts_where_asked_with_the_stride_and_fits_into_the_video():
    assert clip_at(3, 100, 4).tolist() == [3, 4, 5, 6]
    assert clip_at(3, 100, 4, 0.5).tolist() == [3, 3, 4, 4]
    assert clip_at(3, 100, 4, 2.5).tolist() == [3, 5, 8, 10]
    assert clip_at(8, 10, 4, 2).tolist() == [8, 0, 2, 4]  # loops past the end
    assert clip_at(8, 10, 4, 2, policy="clamp").tolist() == [8, 9, 9, 9]


def test_sliding_clips_start_every_step_up_to_the_last_start_that_fits():
    clips = sliding_clips(10, 4)  # starts 0..6
    assert clips.shape == (7, 4)
    assert clips[:, 0].tolist() == list(range(7)) and clips[-1].tolist() == [6, 7, 8, 9]
    assert sliding_clips(10, 4, stride=2).tolist() == [[0, 2, 4, 6], [1, 3, 5, 7], [2, 4, 6, 8], [3, 5, 7, 9]]
    assert sliding_clips(10, 4, stride=0.5)[-1].tolist() == [8, 8, 9, 9]
    assert sliding_clips(10, 4, step=3)[:, 0].tolist() == [0, 3, 6]
    # every clip equals clip_at at its start
    for stride in (0.5, 1.0, 2.0, 4.0):
        for clip in sliding_clips(40, 8, stride):
            assert np.array_equal(clip, clip_at(clip[0], 40, 8, stride))
    assert sliding_clips(5, 4, stride=2).tolist() == [[0, 2, 4, 1]]  # too short: one clip from 0, looped
    assert sliding_clips(5, 4, stride=2, policy="clamp").tolist() == [[0, 2, 4, 4]]
    with pytest.raises(ValueError, match="step"):
        sliding_clips(10, 4, step=0)


@pytest.mark.parametrize("stride", [1.0, 2.0, 3.0])
def test_random_clip_has_exact_integer_stride(stride):
    for seed in range(20):
        clip = random_clip(200, 16, rng(seed), stride)
        assert clip.shape == (16,) and clip.dtype == np.int64
        assert np.all(np.diff(clip) == stride)
        assert 0 <= clip[0] and clip[-1] < 200


def test_fractional_stride_uses_floor_and_half_speed_repeats_frames():
    clip = random_clip(200, 16, rng(1), 0.5)
    assert np.array_equal(clip[0::2], clip[1::2])
    assert np.all(np.diff(clip[0::2]) == 1)
    offsets = random_clip(1000, 9, rng(2), 2.5) - random_clip(1000, 9, rng(2), 2.5)[0]
    assert offsets.tolist() == [0, 2, 5, 7, 10, 12, 15, 17, 20]


def test_random_start_covers_every_valid_start():
    starts = {int(random_clip(20, 8, rng(seed), 2.0)[0]) for seed in range(400)}
    # The span is 14 frames, so starts 0..5 are exactly the ones where the clip fits.
    assert starts == set(range(6))


def test_fps_resampling_scales_the_stride():
    clip = random_clip(300, 8, rng(0), fps=30, target_fps=15)
    assert np.all(np.diff(clip) == 2)
    clip = random_clip(300, 8, rng(0), 2.0, fps=30, target_fps=15)
    assert np.all(np.diff(clip) == 4)
    clip = uniform_clips(300, 8, fps=25, target_fps=50)[0]
    assert np.array_equal(clip[0::2], clip[1::2])
    # fps alone means "keep the native rate"; target_fps alone is a mistake.
    assert np.all(np.diff(random_clip(300, 8, rng(0), fps=30)) == 1)
    with pytest.raises(ValueError, match="fps"):
        random_clip(300, 8, rng(0), target_fps=15)


def test_random_clips_are_independent_and_deterministic():
    clips = random_clips(1000, 8, 10, rng(3))
    assert clips.shape == (10, 8)
    assert np.all(np.diff(clips, axis=1) == 1)
    assert len(set(clips[:, 0].tolist())) > 1
    assert np.array_equal(clips, random_clips(1000, 8, 10, rng(3)))
    assert not np.array_equal(clips, random_clips(1000, 8, 10, rng(4)))


def test_uniform_clips_spread_evenly_from_first_to_last_frame():
    clips = uniform_clips(100, 10, num_clips=4, stride=2.0)
    assert clips.shape == (4, 10)
    assert clips[0, 0] == 0 and clips[-1, -1] == 99
    assert np.all(np.diff(clips, axis=1) == 2)
    gaps = np.diff(clips[:, 0])
    assert gaps.max() - gaps.min() <= 1
    assert np.array_equal(clips, uniform_clips(100, 10, num_clips=4, stride=2.0))


def test_single_uniform_clip_is_centred():
    clip = uniform_clips(100, 10)[0]
    assert clip.tolist() == list(range(45, 55))


@pytest.mark.parametrize("policy", SHORT_VIDEO_POLICIES)
def test_short_videos_never_go_out_of_range(policy):
    for num_frames in (1, 3, 7, 15):
        clips = [uniform_clips(num_frames, 16, 3, 2.0, policy=policy), random_clips(num_frames, 16, 3, rng(), 4.0, policy=policy)]
        clips += [temporal_transformation_clip(name, num_frames, 16, rng(), policy=policy) for name in TEMPORAL_TRANSFORMATIONS]
        for clip in clips:
            assert clip.min() >= 0 and clip.max() < num_frames


def test_short_video_policy_semantics():
    assert uniform_clips(5, 8, policy="loop")[0].tolist() == [0, 1, 2, 3, 4, 0, 1, 2]
    assert uniform_clips(5, 8, policy="clamp")[0].tolist() == [0, 1, 2, 3, 4, 4, 4, 4]
    assert random_clip(10, 4, rng(), 4.0, policy="clamp").tolist() == [0, 4, 8, 9]
    assert temporal_transformation_clip("2x", 10, 8, rng(), speed_jitter=None, policy="loop").tolist() == [0, 2, 4, 6, 8, 0, 2, 4]


def test_transformation_speed():
    assert [transformation_speed(name) for name in ("1x", "2x", "4x", "8x", "0.5x", "reverse")] == [1, 2, 4, 8, 0.5, 1]
    assert transformation_speed("warp") is None
    assert transformation_speed("3x") == 3.0  # any "<speed>x" (Pace uses 1x..4x)
    for bad in ("0x", "x", "-2x", "fast"):
        with pytest.raises(ValueError, match="valid"):
            transformation_speed(bad)


@pytest.mark.parametrize("name", ["1x", "2x", "3x", "4x", "8x"])
def test_speed_transformations_without_jitter_have_exact_stride(name):
    clip = temporal_transformation_clip(name, 1000, 16, rng(), speed_jitter=None)
    assert np.all(np.diff(clip) == transformation_speed(name))


@pytest.mark.parametrize("name", ["1x", "2x", "4x", "8x", "0.5x", "reverse"])
def test_speed_jitter_stays_within_bounds_and_varies(name):
    speed = transformation_speed(name)
    estimates = []
    for seed in range(200):
        clip = temporal_transformation_clip(name, 2000, 64, rng(seed))
        span = abs(int(clip[-1]) - int(clip[0]))
        # floor positions: the true stride s satisfies span <= 63 s < span + 1.
        assert 0.8 * speed - 1e-9 <= (span + 1) / 63 and span / 63 <= 1.2 * speed + 1e-9
        estimates.append(span / (63 * speed))
    assert min(estimates) < 0.85 and max(estimates) > 1.1


def test_half_speed_repeats_every_frame():
    clip = temporal_transformation_clip("0.5x", 500, 16, rng(), speed_jitter=None)
    assert np.array_equal(clip[0::2], clip[1::2])
    assert np.all(np.diff(clip[0::2]) == 1)


def test_reverse_is_the_forward_clip_played_backwards():
    for seed in range(10):
        forward = temporal_transformation_clip("1x", 300, 16, rng(seed))
        backward = temporal_transformation_clip("reverse", 300, 16, rng(seed))
        assert np.array_equal(backward, forward[::-1])
        assert np.all(np.diff(backward) <= 0) and backward[0] > backward[-1]


@pytest.mark.parametrize("clip_len", [7, 8, 16])
def test_palindrome_goes_forward_then_mirrors_back(clip_len):
    clip = temporal_transformation_clip("palindrome", 300, clip_len, rng(5), speed_jitter=None)
    assert len(clip) == clip_len
    assert np.array_equal(clip, clip[::-1])
    half = (clip_len + 1) // 2
    assert np.all(np.diff(clip[:half]) == 1)


def test_shuffle_permutes_a_forward_clip():
    for seed in range(50):
        shuffled = temporal_transformation_clip("shuffle", 300, 8, rng(seed), speed_jitter=None)
        assert not np.array_equal(shuffled, np.sort(shuffled))
        assert np.all(np.diff(np.sort(shuffled)) == 1)
    # Even when only 2 distinct frames remain (clamped short video), the order is broken.
    for seed in range(50):
        shuffled = temporal_transformation_clip("shuffle", 2, 4, rng(seed), policy="clamp", speed_jitter=None)
        assert not np.array_equal(shuffled, np.sort(shuffled))


def test_warp_is_strictly_increasing_with_varying_steps():
    for seed in range(50):
        clip = temporal_transformation_clip("warp", 1000, 16, rng(seed))
        steps = np.diff(clip)
        assert np.all(steps > 0)
        assert len(set(steps.tolist())) > 1
        assert clip[-1] - clip[0] < 16 * 8
    spans = [np.ptp(temporal_transformation_clip("warp", 1000, 16, rng(seed), warp_max_speed=2.0)) for seed in range(50)]
    assert max(spans) < 32
    # A video shorter than the window but longer than the clip still gives distinct frames.
    clip = temporal_transformation_clip("warp", 20, 16, rng())
    assert np.all(np.diff(clip) > 0) and clip[-1] < 20


@pytest.mark.parametrize("name", TEMPORAL_TRANSFORMATIONS)
def test_transformations_are_deterministic_per_seed(name):
    first = temporal_transformation_clip(name, 500, 16, rng(11))
    assert first.shape == (16,) and first.dtype == np.int64
    assert np.array_equal(first, temporal_transformation_clip(name, 500, 16, rng(11)))
    others = [temporal_transformation_clip(name, 500, 16, rng(seed)) for seed in range(12, 17)]
    assert any(not np.array_equal(first, other) for other in others)


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match="valid: .*warp"):
        temporal_transformation_clip("slow", 100, 8, rng())
    with pytest.raises(ValueError, match="clip_len"):
        random_clip(100, 0, rng())
    with pytest.raises(ValueError, match="num_frames"):
        uniform_clips(0, 8)
    with pytest.raises(ValueError, match="num_clips"):
        random_clips(100, 8, 0, rng())
    with pytest.raises(ValueError, match="stride"):
        random_clip(100, 8, rng(), stride=0)
    with pytest.raises(ValueError, match="speed_jitter"):
        temporal_transformation_clip("1x", 100, 8, rng(), speed_jitter=(1.2, 0.8))


def test_nearby_clips_follow_cvrls_decreasing_gap_distribution():
    rng = np.random.default_rng(0)
    clips = [nearby_clips(100, 16, 2, rng) for _ in range(4000)]
    assert all(c.shape == (2, 16) and c.min() >= 0 and c.max() < 100 for c in clips)
    assert all((np.diff(c, axis=1) == 1).all() for c in clips)  # consecutive frames, never wrapped
    gaps = np.array([abs(c[1, 0] - c[0, 0]) for c in clips])
    # P(gap) proportional to (84 - gap) on [0, 84]: mean 28, and each third of the range less likely than the one before.
    assert 26 < gaps.mean() < 30
    thirds = np.histogram(gaps, bins=3, range=(0, 84))[0]
    assert thirds[0] > thirds[1] > thirds[2] > 0
    first_is_earlier = np.mean([c[0, 0] < c[1, 0] for c in clips])
    assert 0.4 < first_is_earlier < 0.6  # the clips come out in random order


def test_nearby_clips_uniform_gaps_short_videos_and_bad_input():
    rng = np.random.default_rng(1)
    gaps = np.array([abs(np.diff(nearby_clips(100, 16, 2, rng, "uniform")[:, 0])[0]) for _ in range(4000)])
    assert 40 < gaps.mean() < 44  # every gap in [0, 84] equally likely: mean 42
    thirds = np.histogram(gaps, bins=3, range=(0, 84))[0]
    assert thirds.min() > 0.85 * thirds.max()
    short = nearby_clips(10, 16, 3, rng)
    assert short.shape == (3, 16) and short.max() < 10  # looped, as every sampler does for short videos
    with pytest.raises(ValueError, match="gap_distribution"):
        nearby_clips(100, 16, 2, rng, "increasing")
