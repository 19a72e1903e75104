"""SynthMotion: real mp4 files on disk, loaded through ``datasets``; motion checked on rendered pixels."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from skimage.registration import phase_cross_correlation
from torchcodec.decoders import VideoDecoder

from hfvid.data.synthetic import (
    SYNTHMOTION_CLASSES,
    SynthMotionConfig,
    generate_synthmotion,
    load_synthmotion,
    main,
    render_video,
    synthmotion_features,
)

TINY = SynthMotionConfig(num_train_per_class=2, num_test_per_class=1, size=32, num_frames=16, fps=8)


def mp4_bytes(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*.mp4"))}


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory) -> Path:
    return generate_synthmotion(tmp_path_factory.mktemp("synthmotion"), TINY, num_workers=2, progress=False)


def test_layout_metadata_and_manifest(tiny_set):
    assert json.loads((tiny_set / "synthmotion.json").read_text())["complete"] is True
    expected_fields = {"file_name"} | set(synthmotion_features()) - {"video"}
    for split, per_class in (("train", 2), ("test", 1)):
        for class_name in SYNTHMOTION_CLASSES:
            assert len(list((tiny_set / split / class_name).glob("*.mp4"))) == per_class
        rows = [json.loads(line) for line in (tiny_set / split / "metadata.jsonl").read_text().splitlines()]
        assert len(rows) == 8 * per_class
        for row in rows:
            assert set(row) == expected_fields
            assert row["file_name"].split("/")[0] == row["label"]
            assert (tiny_set / split / row["file_name"]).is_file()
            assert TINY.speed_range[0] <= row["speed"] <= TINY.speed_range[1]
    ids = [path.name for path in (tiny_set / "train").rglob("*.mp4")]
    assert len(set(ids)) == len(ids), "ids are unique within a split"


def test_mp4s_decode_with_the_configured_shape_and_fps(tiny_set):
    for path in sorted(tiny_set.rglob("*.mp4"))[::5]:
        decoder = VideoDecoder(str(path))
        assert decoder.metadata.num_frames == TINY.num_frames
        assert decoder.metadata.average_fps == pytest.approx(TINY.fps)
        frames = decoder.get_frames_in_range(0, TINY.num_frames).data
        assert frames.shape == (TINY.num_frames, 3, TINY.size, TINY.size) and frames.dtype == torch.uint8
        assert frames.float().std() > 10, "not a blank video"


def test_load_synthmotion_gives_class_labels_in_class_order_and_metadata(tiny_set, tmp_path):
    dataset = load_synthmotion(tiny_set, cache_dir=tmp_path)
    assert set(dataset) == {"train", "test"}
    assert dataset["train"].features["label"].names == list(SYNTHMOTION_CLASSES)
    assert dataset["train"].features == synthmotion_features()
    for split, per_class in (("train", 2), ("test", 1)):
        assert np.bincount(dataset[split]["label"], minlength=8).tolist() == [per_class] * 8
    paths = load_synthmotion(tiny_set, split="train", decode=False, cache_dir=tmp_path)
    assert [Path(row["video"]["path"]).parent.name for row in paths] == [
        SYNTHMOTION_CLASSES[label] for label in paths["label"]
    ]
    example = dataset["test"][5]
    assert example["label"] == 5 and example["rotation_deg_per_frame"] < 0  # rotate_ccw
    frames = example["video"].get_frames_in_range(0, TINY.num_frames).data
    assert frames.shape == (TINY.num_frames, 3, TINY.size, TINY.size)


def test_load_synthmotion_refuses_a_folder_that_is_not_a_set(tmp_path):
    with pytest.raises(FileNotFoundError, match="no complete SynthMotion set"):
        load_synthmotion(tmp_path)


def test_streaming_yields_the_same_rows_as_non_streaming(tiny_set, tmp_path):
    fields = ("label", "seed", "speed", "object", "background")
    for split in ("train", "test"):
        regular = load_synthmotion(tiny_set, split=split, decode=False, cache_dir=tmp_path)
        streamed = list(load_synthmotion(tiny_set, split=split, streaming=True, decode=False))
        assert [[row[field] for field in fields] for row in streamed] == [
            [row[field] for field in fields] for row in regular
        ]
        assert [Path(row["video"]["path"]).name for row in streamed] == [
            Path(row["video"]["path"]).name for row in regular
        ]
    decoder = next(iter(load_synthmotion(tiny_set, split="train", streaming=True)))["video"]
    assert decoder.get_frames_in_range(0, 2).data.shape == (2, 3, TINY.size, TINY.size)


def test_generation_is_deterministic_by_seed(tiny_set, tmp_path):
    again = generate_synthmotion(tmp_path / "again", TINY, num_workers=1, progress=False)
    assert mp4_bytes(again) == mp4_bytes(tiny_set), "same seed -> byte-identical mp4s"
    for split in ("train", "test"):
        assert (again / split / "metadata.jsonl").read_text() == (tiny_set / split / "metadata.jsonl").read_text()
    other_seed = TINY.__class__(**{**TINY.__dict__, "seed": 1})
    other = generate_synthmotion(tmp_path / "other", other_seed, num_workers=1, progress=False)
    differing = [name for name, data in mp4_bytes(other).items() if mp4_bytes(tiny_set)[name] != data]
    assert len(differing) == 24


def test_regeneration_is_skipped_refused_or_forced(tiny_set, tmp_path):
    out = generate_synthmotion(tmp_path / "set", TINY, num_workers=1, progress=False)
    stamps = {path: path.stat().st_mtime_ns for path in out.rglob("*.mp4")}
    generate_synthmotion(out, TINY, num_workers=1, progress=False)
    assert {path: path.stat().st_mtime_ns for path in out.rglob("*.mp4")} == stamps, "complete set is reused"
    smaller = TINY.__class__(**{**TINY.__dict__, "num_train_per_class": 1})
    with pytest.raises(FileExistsError, match="overwrite"):
        generate_synthmotion(out, smaller, num_workers=1, progress=False)
    generate_synthmotion(out, smaller, num_workers=1, progress=False, overwrite=True)
    assert len(list((out / "train").rglob("*.mp4"))) == 8
    (out / "train" / "zoom_out").joinpath("00007.mp4").unlink()  # an incomplete set is regenerated
    generate_synthmotion(out, smaller, num_workers=1, progress=False)
    assert (out / "train" / "zoom_out" / "00007.mp4").is_file()


def test_a_set_without_test_videos_loads_its_training_split_and_names_the_splits_it_has(tmp_path):
    config = TINY.__class__(**{**TINY.__dict__, "num_train_per_class": 1, "num_test_per_class": 0})
    out = generate_synthmotion(tmp_path / "train_only", config, num_workers=1, progress=False)
    assert not (out / "test").exists()
    assert load_synthmotion(out, split="train", decode=False).num_rows == 8
    with pytest.raises(ValueError, match=r"Unknown split \"test\".*\['train'\]"):
        load_synthmotion(out, split="test", decode=False)


def test_a_set_of_an_older_format_version_is_regenerated(tiny_set, tmp_path):
    out = generate_synthmotion(tmp_path / "set", TINY, num_workers=1, progress=False)
    manifest = json.loads((out / "synthmotion.json").read_text())
    (out / "synthmotion.json").write_text(json.dumps({**manifest, "format_version": 1}))
    stale = out / "train" / "zoom_out" / "00001.mp4"
    stale.write_bytes(b"an old video")
    generate_synthmotion(out, TINY, num_workers=1, progress=False)
    assert json.loads((out / "synthmotion.json").read_text()) == manifest
    assert mp4_bytes(out) == mp4_bytes(tiny_set)


def test_uniform_motion_without_friction():
    uniform = SynthMotionConfig(size=64, num_frames=24, speed_range=(1.0, 1.5), deceleration=1.0)
    frames, metadata = render_video(1, np.random.default_rng(0), uniform, background=False)  # translate_right
    x = np.array([centroid(object_masks(frame))[0] for frame in frames])
    np.testing.assert_allclose(np.diff(x), metadata["shift_x_px_per_frame"], atol=0.35)
    with pytest.raises(ValueError, match="deceleration"):
        SynthMotionConfig(deceleration=0.5)


def test_cli_generates_and_summarises(tmp_path, capsys):
    args = ["--out", str(tmp_path / "cli"), "--num-train-per-class", "1", "--num-test-per-class", "1"]
    main([*args, "--size", "32", "--num-frames", "8", "--num-workers", "1", "--summary"])
    printed = capsys.readouterr().out
    assert ", ".join(SYNTHMOTION_CLASSES) in printed
    assert "train: 8 videos" in printed and "test: 8 videos" in printed
    assert "(8, 3, 32, 32)" in printed


# ----------------------------------------------------------------------------- motion on the pixels

# Slower than the default, so that the object stays in frame for the whole clip and can be measured.
MOTION_CONFIG = SynthMotionConfig(size=64, num_frames=24, speed_range=(1.0, 1.5))


def travel_in_frames(config: SynthMotionConfig, start: int, stop: int) -> float:
    """The motion from frame ``start`` to ``stop`` in units of the mid-clip motion per frame (friction)."""
    friction = np.log(config.deceleration) / (config.num_frames - 1)
    time = np.array([start, stop]) - (config.num_frames - 1) / 2
    done = -np.expm1(-friction * time) / friction
    return float(done[1] - done[0])


def object_masks(frames: np.ndarray) -> np.ndarray:
    """Where the object is, on a black background (object colours are bright by construction)."""
    return frames.max(axis=-1) > 60


def centroid(mask: np.ndarray) -> np.ndarray:
    y, x = np.nonzero(mask)
    return np.array([x.mean(), y.mean()])


def rotation_error(frames: np.ndarray, start: int, stop: int, degrees_ccw: float) -> float:
    """How far frame ``stop`` is from frame ``start`` turned by ``degrees_ccw`` (torchvision: positive
    = counter-clockwise on screen) about the object's centroid."""
    centre = centroid(object_masks(frames[start])).tolist()
    first, last = (torch.from_numpy(frames[i]).permute(2, 0, 1).float() for i in (start, stop))
    turned = TF.rotate(first, degrees_ccw, interpolation=TF.InterpolationMode.BILINEAR, center=centre)
    return (turned - last).abs().mean().item()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("label", range(8), ids=SYNTHMOTION_CLASSES)
def test_rendered_object_moves_as_its_class_says(label, seed):
    name = SYNTHMOTION_CLASSES[label]
    frames, metadata = render_video(label, np.random.default_rng(seed), MOTION_CONFIG, background=False)
    assert frames.shape == (24, 64, 64, 3) and frames.dtype == np.uint8
    masks = object_masks(frames)
    areas = masks.reshape(len(masks), -1).sum(axis=1)
    assert areas.min() > 20, "the object stays (mostly) in frame"
    shift = centroid(masks[-1]) - centroid(masks[0])
    growth = areas[-4:].mean() / areas[:4].mean()
    expected_shift = {
        "translate_left": (-1, 0), "translate_right": (1, 0), "translate_up": (0, -1), "translate_down": (0, 1)
    }  # fmt: skip
    if name in expected_shift:
        direction = np.array(expected_shift[name])
        travel = travel_in_frames(MOTION_CONFIG, 0, 23) * abs(metadata["shift_x_px_per_frame"] + metadata["shift_y_px_per_frame"])
        assert travel > 5
        assert shift @ direction > 0.7 * travel, (shift, travel)
        assert abs(shift @ direction[::-1]) < 2, "no motion across the direction"
        first_half = (centroid(masks[11]) - centroid(masks[0])) @ direction
        second_half = (centroid(masks[23]) - centroid(masks[12])) @ direction
        assert first_half > 1.2 * second_half > 0, "the object slows down (friction)"
        assert 0.8 < growth < 1.25
    elif name.startswith("rotate"):
        degrees = travel_in_frames(MOTION_CONFIG, 0, 12) * metadata["rotation_deg_per_frame"]  # positive = clockwise
        assert abs(degrees) >= 20 and (degrees > 0) == (name == "rotate_cw")
        assert rotation_error(frames, 0, 12, -degrees) < rotation_error(frames, 0, 12, degrees)
        assert 0.8 < growth < 1.25
    else:
        assert (growth > 1.3) if name == "zoom_in" else (growth < 1 / 1.3), growth
        assert (metadata["scale_per_frame"] > 1) == (name == "zoom_in")
        assert np.abs(shift).max() < 3


def test_render_video_is_pure_and_appearance_is_random():
    first, metadata = render_video(0, np.random.default_rng(7), MOTION_CONFIG)
    again, metadata_again = render_video(0, np.random.default_rng(7), MOTION_CONFIG)
    plain, metadata_plain = render_video(0, np.random.default_rng(7), MOTION_CONFIG, background=False)
    assert np.array_equal(first, again) and metadata == metadata_again == metadata_plain
    assert not np.array_equal(first, plain)
    short = SynthMotionConfig(num_frames=2)  # same size as MOTION_CONFIG: reuses the loaded backgrounds
    drawn = [render_video(0, np.random.default_rng(seed), short)[1] for seed in range(20)]
    assert len({metadata["object"] for metadata in drawn}) >= 5
    assert len({metadata["background"] for metadata in drawn}) >= 8


@pytest.mark.parametrize("seed", [0, 2, 4])  # seeds whose backgrounds have texture to register
def test_background_pans_as_its_metadata_says(seed):
    config = SynthMotionConfig(size=64, num_frames=48)
    frames, metadata = render_video(0, np.random.default_rng(seed), config)
    grey = frames.astype(np.float64).mean(axis=-1)
    shift_yx = phase_cross_correlation(grey[-1], grey[0], upsample_factor=10)[0]  # moves frame 0 onto the last
    expected_xy = 47 * np.array([metadata["pan_x_px_per_frame"], metadata["pan_y_px_per_frame"]])
    assert np.linalg.norm(expected_xy) > 2
    np.testing.assert_allclose(shift_yx[::-1], expected_xy, atol=1.0)


def test_phases_rest_move_rest_with_per_frame_labels(tmp_path):
    config = SynthMotionConfig(num_train_per_class=1, num_test_per_class=1, size=32, num_frames=20, fps=8, phases=True)
    for label in range(len(SYNTHMOTION_CLASSES)):
        frames, metadata = render_video(label, np.random.default_rng(label), config, background=False)
        start, end = metadata["phase_events"]
        assert 2 <= start <= 7 and 13 <= end <= 18
        assert metadata["phases"] == [0] * start + [1] * (end - start) + [2] * (20 - end)
        before, after = frames[: start + 1], frames[end - 1 :]
        assert (before == before[0]).all() and (after == after[0]).all()  # at rest (over black: nothing else moves)
        moving = frames[start : end]
        assert all((a != b).any() for a, b in zip(moving[:-1], moving[1:]))
    out = generate_synthmotion(tmp_path / "phased", config, num_workers=1, progress=False)
    train = load_synthmotion(out, split="train", decode=False)
    assert train.features["phases"].feature.names == ["still_before", "moving", "still_after"]
    assert len(train[0]["phases"]) == 20 and len(train[0]["phase_events"]) == 2
    # The option leaves sets made without it untouched: their manifest does not name it.
    assert "phases" not in json.loads((Path(generate_synthmotion(tmp_path / "plain", TINY, num_workers=1, progress=False)) / "synthmotion.json").read_text())["config"]


def test_phase_timing_ranges_are_drawn_recorded_and_checked(tmp_path):
    """Wider phase ranges (phase less tied to time) are honoured per video, named in the manifest only when they are
    not the defaults, and impossible ranges are refused by name."""
    wide = dict(phase_start_range=(0.05, 0.45), phase_end_range=(0.55, 0.95))
    config = SynthMotionConfig(num_train_per_class=1, num_test_per_class=1, size=32, num_frames=40, fps=8, phases=True, **wide)
    starts, ends = [], []
    for seed in range(24):
        _, metadata = render_video(seed % len(SYNTHMOTION_CLASSES), np.random.default_rng(seed), config, background=False)
        start, end = metadata["phase_events"]
        assert 2 <= start <= 18 and 22 <= end <= 38
        starts.append(start), ends.append(end)
    assert max(starts) > 14 and min(starts) < 6 and max(ends) > 34 and min(ends) < 26  # the whole ranges are used
    manifest = json.loads((Path(generate_synthmotion(tmp_path / "wide", config, num_workers=1, progress=False)) / "synthmotion.json").read_text())
    assert manifest["config"]["phase_start_range"] == [0.05, 0.45] and manifest["config"]["phase_end_range"] == [0.55, 0.95]
    default = SynthMotionConfig(num_train_per_class=1, num_test_per_class=1, size=32, num_frames=20, fps=8, phases=True)
    manifest = json.loads((Path(generate_synthmotion(tmp_path / "default", default, num_workers=1, progress=False)) / "synthmotion.json").read_text())
    assert manifest["config"]["phases"] is True and "phase_start_range" not in manifest["config"]
    with pytest.raises(ValueError, match=r"phase ranges must satisfy .* got phase_start_range=\(0.1, 0.6\), phase_end_range=\(0.5, 0.9\)"):
        SynthMotionConfig(phases=True, phase_start_range=(0.1, 0.6), phase_end_range=(0.5, 0.9))
