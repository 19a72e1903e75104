"""Loaders returning ``datasets`` objects, on tiny fake trees of real H.264 files.

Every fake video's brightness encodes its class (``20 + 30 * class_index``), so decoding a row
checks that each path was paired with the right label.
"""

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Video

from hfvid.data.datasets import load_hmdb51, load_ucf101, load_video_csv, load_video_folder
from hfvid.data.encoding import write_mp4


@pytest.fixture(scope="module")
def class_mp4s(tmp_path_factory) -> list[bytes]:
    """Bytes of 8 tiny mp4s; video k is uniformly 20 + 30 * k bright."""
    folder = tmp_path_factory.mktemp("class_videos")
    videos = []
    for k in range(8):
        frames = np.full((4, 16, 16, 3), 20 + 30 * k, dtype=np.uint8)
        videos.append(Path(write_mp4(folder / f"{k}.mp4", frames, fps=8, crf=0)).read_bytes())
    return videos


def put(path: Path, video: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(video)
    return path


def decoded_class(row) -> int:
    """The class index a decoded row's video shows (inverse of the brightness code)."""
    mean = row["video"].get_frames_at([0]).data.float().mean().item()
    return round((mean - 20) / 30)


def assert_rows_match_labels(dataset: Dataset, class_index: dict[str, int]) -> None:
    """Each row's video shows the class its label names (class_index: name -> brightness code)."""
    names = dataset.features["label"].names
    for row in dataset:
        assert decoded_class(row) == class_index[names[row["label"]]]


# ----------------------------------------------------------------------------- folders


def test_folder_of_class_folders(tmp_path, class_mp4s):
    codes = {"dog": 0, "cat": 1, "bird": 2}
    for name, stems in {"dog": ["a.mp4", "b.AVI"], "cat": ["c.mkv", "d.webm", "e.MOV"], "bird": ["f.mp4"]}.items():
        for stem in stems:
            put(tmp_path / name / stem, class_mp4s[codes[name]])
    (tmp_path / "cat" / "notes.txt").write_text("not a video")
    put(tmp_path / "cat" / ".hidden.mp4", class_mp4s[0])
    dataset = load_video_folder(tmp_path)
    assert isinstance(dataset, Dataset) and len(dataset) == 6
    assert dataset.features["label"] == ClassLabel(names=["bird", "cat", "dog"])
    assert dataset.features["video"] == Video(decode=True)
    assert np.bincount(dataset["label"]).tolist() == [1, 3, 2]
    assert_rows_match_labels(dataset, codes)
    raw = load_video_folder(tmp_path, decode=False)
    assert all(os.path.isabs(row["video"]["path"]) and row["video"]["bytes"] is None for row in raw)
    with pytest.raises(ValueError, match="splits"):
        load_video_folder(tmp_path, splits=["train"])


def test_folder_of_split_folders_shares_one_class_label(tmp_path, class_mp4s):
    codes = {"jump": 3, "run": 4, "walk": 5}
    for split, per_class in {"train": {"jump": 2, "run": 2, "walk": 1}, "test": {"jump": 1, "walk": 1}}.items():
        for name, count in per_class.items():
            for index in range(count):
                put(tmp_path / split / name / f"{index}.mp4", class_mp4s[codes[name]])
    dataset = load_video_folder(tmp_path)
    assert isinstance(dataset, DatasetDict) and set(dataset) == {"train", "test"}
    for split in dataset.values():
        assert split.features["label"].names == ["jump", "run", "walk"]
        assert_rows_match_labels(split, codes)
    assert np.bincount(dataset["train"]["label"]).tolist() == [2, 2, 1]
    assert np.bincount(dataset["test"]["label"], minlength=3).tolist() == [1, 0, 1]
    only_test = load_video_folder(tmp_path, splits=["test"])
    assert list(only_test) == ["test"] and only_test["test"].features["label"].names == ["jump", "run", "walk"]
    with pytest.raises(FileNotFoundError, match="validation"):
        load_video_folder(tmp_path, splits=["validation"])
    put(tmp_path / "stray_class" / "x.mp4", class_mp4s[0])
    with pytest.raises(ValueError, match="mixes"):
        load_video_folder(tmp_path)


def test_folder_errors_name_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        load_video_folder(tmp_path / "missing")
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(FileNotFoundError, match="no videos"):
        load_video_folder(tmp_path)


# ----------------------------------------------------------------------------- CSV


def test_csv_resolves_relative_paths_and_sorts_labels(tmp_path, class_mp4s):
    put(tmp_path / "clips" / "one.mp4", class_mp4s[1])
    put(tmp_path / "clips" / "two.avi", class_mp4s[2])
    absolute = put(tmp_path / "elsewhere" / "three.mp4", class_mp4s[1])
    csv_path = tmp_path / "lists" / "videos.csv"
    csv_path.parent.mkdir()
    csv_path.write_text(f"path,label\n../clips/one.mp4,wave\n../clips/two.avi,clap\n{absolute},wave\n")
    dataset = load_video_csv(csv_path)
    assert dataset.features["label"].names == ["clap", "wave"]
    assert dataset["label"] == [1, 0, 1]
    assert_rows_match_labels(dataset, {"wave": 1, "clap": 2})

    numeric = tmp_path / "numeric.csv"
    numeric.write_text("file,class\nclips/one.mp4,10\nclips/two.avi,2\nclips/one.mp4,0\n")
    dataset = load_video_csv(numeric, video_column="file", label_column="class", decode=False)
    assert dataset.features["label"].names == ["0", "2", "10"], "integer labels sort numerically"
    assert dataset["label"] == [2, 1, 0]
    assert dataset[1]["video"]["path"] == str(tmp_path / "clips" / "two.avi")


def test_csv_errors_name_the_row_or_column(tmp_path, class_mp4s):
    put(tmp_path / "a.mp4", class_mp4s[0])
    missing = tmp_path / "missing.csv"
    missing.write_text("path,label\na.mp4,x\nnot_there.mp4,y\n")
    with pytest.raises(FileNotFoundError, match=r"not_there\.mp4 \(listed at .*missing\.csv:3\)"):
        load_video_csv(missing)
    with pytest.raises(ValueError, match="'video'.*header has \\['path', 'label'\\]"):
        load_video_csv(missing, video_column="video")
    with pytest.raises(FileNotFoundError, match="nowhere.csv"):
        load_video_csv(tmp_path / "nowhere.csv")


# ----------------------------------------------------------------------------- UCF101

UCF_CLASSES = ["YoYo", "ApplyEyeMakeup", "Basketball"]  # classInd order, deliberately not sorted


def make_ucf101(root: Path, split_dir: Path, class_mp4s: list[bytes]) -> None:
    """A 3-class UCF101 tree: groups g01-g02 test, g08-g09 train (2 clips each); CRLF lists like the official ones."""
    split_dir.mkdir(parents=True)
    (split_dir / "classInd.txt").write_text("".join(f"{i + 1} {name}\r\n" for i, name in enumerate(UCF_CLASSES)))
    train, test = [], []
    for index, name in enumerate(UCF_CLASSES):
        for group in (1, 2, 8, 9):
            for clip in (1, 2):
                relative = f"{name}/v_{name}_g{group:02d}_c{clip:02d}.avi"  # mp4 content under the listed name
                put(root / relative, class_mp4s[index])
                if group < 8:
                    test.append(relative)
                else:
                    train.append(f"{relative} {index + 1}")
    (split_dir / "trainlist01.txt").write_text("\r\n".join(train) + "\r\n")
    (split_dir / "testlist01.txt").write_text("\r\n".join(test) + "\r\n")


def test_ucf101_official_lists(tmp_path, class_mp4s):
    root, split_dir = tmp_path / "UCF-101", tmp_path / "ucfTrainTestlist"
    make_ucf101(root, split_dir, class_mp4s)
    dataset = load_ucf101(root, split_dir, fold=1)
    assert set(dataset) == {"train", "test"}
    for split in dataset.values():
        assert split.features["label"].names == UCF_CLASSES
        assert np.bincount(split["label"]).tolist() == [4, 4, 4]
        assert_rows_match_labels(split, {name: index for index, name in enumerate(UCF_CLASSES)})
    raw = load_ucf101(root, split_dir, decode=False)
    assert raw["test"][0]["video"]["path"] == str(root / "YoYo" / "v_YoYo_g01_c01.avi")
    assert "_g08_" in raw["train"][0]["video"]["path"]


def test_ucf101_errors_name_the_file(tmp_path, class_mp4s):
    root, split_dir = tmp_path / "UCF-101", tmp_path / "ucfTrainTestlist"
    make_ucf101(root, split_dir, class_mp4s)
    with pytest.raises(FileNotFoundError, match="trainlist02.txt"):
        load_ucf101(root, split_dir, fold=2)
    with pytest.raises(ValueError, match="fold"):
        load_ucf101(root, split_dir, fold=4)
    (root / "Basketball" / "v_Basketball_g09_c02.avi").unlink()
    with pytest.raises(FileNotFoundError, match=r"v_Basketball_g09_c02\.avi \(listed at .*trainlist01\.txt:12\)"):
        load_ucf101(root, split_dir)
    (split_dir / "trainlist01.txt").write_text("YoYo/v_YoYo_g08_c01.avi 2\n")
    with pytest.raises(ValueError, match=r"trainlist01\.txt:1: class id 2 does not match folder 'YoYo'"):
        load_ucf101(root, split_dir)


# ----------------------------------------------------------------------------- HMDB51

HMDB_CLASSES = ["brush_hair", "cartwheel", "catch"]


def make_hmdb51(root: Path, split_dir: Path, class_mp4s: list[bytes]) -> None:
    """3 classes x 5 videos: ids 1, 1, 2, 0, 1 (train, train, test, unused, train), trailing spaces as officially."""
    split_dir.mkdir(parents=True)
    for index, name in enumerate(HMDB_CLASSES):
        lines = []
        for number, split_id in enumerate((1, 1, 2, 0, 1)):
            video = f"{name}_clip_{number}.avi"
            put(root / name / video, class_mp4s[index])
            lines.append(f"{video} {split_id} \n")
        (split_dir / f"{name}_test_split1.txt").write_text("".join(lines))
        (split_dir / f"{name}_test_split2.txt").write_text("".join(line.replace(" 0 ", " 2 ") for line in lines))


def test_hmdb51_official_splits(tmp_path, class_mp4s):
    root, split_dir = tmp_path / "hmdb51", tmp_path / "testTrainMulti_7030_splits"
    make_hmdb51(root, split_dir, class_mp4s)
    dataset = load_hmdb51(root, split_dir, fold=1)
    assert set(dataset) == {"train", "test"}
    assert dataset["train"].features["label"].names == HMDB_CLASSES
    assert np.bincount(dataset["train"]["label"]).tolist() == [3, 3, 3]
    assert np.bincount(dataset["test"]["label"]).tolist() == [1, 1, 1]
    for split in dataset.values():
        assert_rows_match_labels(split, {name: index for index, name in enumerate(HMDB_CLASSES)})
    paths = load_hmdb51(root, split_dir, fold=1, decode=False)["test"]["video"]
    assert [Path(video["path"]).name for video in paths] == [f"{name}_clip_2.avi" for name in HMDB_CLASSES]
    assert np.bincount(load_hmdb51(root, split_dir, fold=2)["test"]["label"]).tolist() == [2, 2, 2]


def test_hmdb51_errors_name_the_file(tmp_path, class_mp4s):
    root, split_dir = tmp_path / "hmdb51", tmp_path / "splits"
    make_hmdb51(root, split_dir, class_mp4s)
    with pytest.raises(FileNotFoundError, match=r"_test_split3\.txt"):
        load_hmdb51(root, split_dir, fold=3)
    (root / "catch" / "catch_clip_3.avi").unlink()  # unused in fold 1: not needed
    assert len(load_hmdb51(root, split_dir, fold=1)["train"]) == 9
    (root / "catch" / "catch_clip_4.avi").unlink()
    with pytest.raises(FileNotFoundError, match=r"catch_clip_4\.avi \(listed at .*catch_test_split1\.txt:5\)"):
        load_hmdb51(root, split_dir, fold=1)
    (split_dir / "catch_test_split1.txt").write_text("catch_clip_0.avi 3\n")
    with pytest.raises(ValueError, match=r"catch_test_split1\.txt:1"):
        load_hmdb51(root, split_dir, fold=1)


def test_load_video_dataset_resolves_every_kind_of_source(synthmotion_dir, tmp_path):
    from hfvid.data.sources import load_video_dataset

    test = load_video_dataset(synthmotion_dir, split="test")
    assert len(test) == 8 and test.features["label"].names[0] == "translate_left"
    flat = tmp_path / "flat"
    for video in sorted(Path(synthmotion_dir, "train").rglob("*.mp4"))[:4]:
        (flat / video.parent.name).mkdir(parents=True, exist_ok=True)
        (flat / video.parent.name / video.name).write_bytes(video.read_bytes())
    assert len(load_video_dataset(str(flat), split="train")) == 4
    with pytest.raises(ValueError, match="has no split 'test'"):
        load_video_dataset(str(flat), split="test")
    streamed = load_video_dataset(str(flat), split="train", streaming=True)
    assert len(list(streamed)) == 4


def test_streamed_synthmotion_is_load_synthmotion_row_by_row(synthmotion_dir):
    from hfvid.data.sources import load_video_dataset
    from hfvid.data.synthetic import load_synthmotion

    for split in ("train", "test"):
        ours = load_video_dataset(synthmotion_dir, split=split, streaming=True)
        reference = load_synthmotion(synthmotion_dir, split=split, streaming=True, decode=False)
        assert ours.features == reference.features and ours.num_shards == 16
        rows, reference_rows = list(ours), list(reference)
        assert sorted(rows, key=str) == sorted(reference_rows, key=str)  # same rows, same paths, each once
    decoded = next(iter(load_video_dataset(synthmotion_dir, split="train", streaming=True, decode=True)))["video"]
    assert decoded.get_frames_in_range(0, 2).data.shape[:2] == (2, 3)
    with pytest.raises(ValueError, match="has no split 'validation'"):
        load_video_dataset(synthmotion_dir, split="validation", streaming=True)


def fake_synthmotion(root: Path, num_videos: int, file_name: str | None = None, by_class: bool = False) -> Path:
    """A SynthMotion-layout folder whose metadata.jsonl lists ``num_videos`` rows (no video files), their classes in
    turn, or (``by_class``) sorted by class as SynthMotion writes them."""
    import json

    from hfvid.data.synthetic import SYNTHMOTION_CLASSES

    (root / "train").mkdir(parents=True)
    row = {"seed": 1, "speed": 1.0, "object": "disc", "background": "coffee", "object_size": 0.3, "shift_x_px_per_frame": 0.5,
           "shift_y_px_per_frame": 0.0, "rotation_deg_per_frame": 0.0, "scale_per_frame": 1.0, "pan_x_px_per_frame": 0.1,
           "pan_y_px_per_frame": 0.0}  # fmt: skip
    with open(root / "train" / "metadata.jsonl", "w") as metadata:
        for i in range(num_videos):
            label = SYNTHMOTION_CLASSES[i * 8 // num_videos if by_class else i % 8]
            metadata.write(json.dumps({"file_name": file_name or f"{label}/{i:06d}.mp4", "label": label, **row}) + "\n")
    (root / "synthmotion.json").write_text(json.dumps({"complete": True}))
    return root


def test_streamed_synthmotion_memory_does_not_grow_with_the_number_of_videos(tmp_path):
    import gc
    import tracemalloc

    from hfvid.data.sources import load_video_dataset
    from hfvid.data.synthetic import SYNTHMOTION_CLASSES

    retained = {}
    for num_videos in (1_000, 20_000):
        dataset = load_video_dataset(str(fake_synthmotion(tmp_path / str(num_videos), num_videos)), streaming=True)
        tracemalloc.start()
        rows = iter(dataset)
        first = next(rows)
        gc.collect()
        retained[num_videos] = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        label = SYNTHMOTION_CLASSES[first["label"]]
        assert first["video"]["path"].startswith(str(tmp_path / str(num_videos) / "train" / label) + "/")
        assert sum(1 for _ in rows) == num_videos - 1
    # datasets' videofolder holds ~1.4 KiB per video here: +26 MiB for the 19k extra videos; ours, the order of the
    # metadata's 2 KiB blocks (4 bytes per KiB: +31 KiB)
    assert retained[20_000] - retained[1_000] < 64 * 1024, retained


@pytest.mark.parametrize("streaming", [True, False])
def test_the_training_stream_mixes_classes_in_every_worker(tmp_path, streaming):
    """Rows sorted by class, read by pretrain.py's stream through 0 or 4 DataLoader workers: batches of 8 hold about as
    many classes as batches drawn at random (5.3 of 8). Before session 17, 4 workers got about 3 (a shard was a run of
    one class's rows and each worker streams its own shards)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from bench_batch_mix import classes_per_batch  # the benchmark's own count

    from hfvid.cli.pretrain import parse_args, video_stream

    folder = fake_synthmotion(tmp_path / "sorted", 2000, by_class=True)
    args = parse_args(["--dataset", str(folder), *([] if streaming else ["--no_streaming"])])
    for workers in (0, 4):
        mean, labels = classes_per_batch(video_stream(args, rank=0, world_size=1), workers, batch_size=8)
        assert mean > 4.9, workers
        assert len(labels) >= 2000 - 4 * 8  # each worker drops at most its last, incomplete batch


def test_streamed_synthmotion_checks_its_input(tmp_path):
    from hfvid.data.sources import load_video_dataset

    escaping = fake_synthmotion(tmp_path / "escaping", 2, file_name="../../secret.mp4")
    with pytest.raises(ValueError, match="must be a path inside its folder"):
        list(load_video_dataset(str(escaping), streaming=True))
    incomplete = fake_synthmotion(tmp_path / "incomplete", 2)
    (incomplete / "synthmotion.json").write_text('{"complete": false}')
    with pytest.raises(FileNotFoundError, match="no complete SynthMotion set"):
        load_video_dataset(str(incomplete), streaming=True)


# ----------------------------------------------------------------------------- every local layout


def paths_of(dataset) -> list[str]:
    return sorted(Path(row["path"]).name for row in dataset.cast_column("video", Video(decode=False))["video"])


def test_every_local_layout_is_detected(tmp_path, class_mp4s):
    from hfvid.data.datasets import VIDEO_EXTENSIONS, load_video_source

    assert {".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".ts", ".mpg", ".flv", ".3gp", ".ogv"} <= set(VIDEO_EXTENSIONS)
    flat = tmp_path / "flat"
    put(flat / "a.mp4", class_mp4s[0]), put(flat / "b.ts", class_mp4s[1]), put(flat / "c.M4V", class_mp4s[2])
    (flat / "notes.txt").write_text("not a video")
    loaded = load_video_source(flat)
    assert list(loaded) == ["train"] and list(loaded["train"].features) == ["video"]  # no labels
    assert paths_of(loaded["train"]) == ["a.mp4", "b.ts", "c.M4V"]

    nested = tmp_path / "nested"
    put(nested / "2024" / "05" / "day1" / "a.mp4", class_mp4s[0]), put(nested / "b.mkv", class_mp4s[1])
    put(nested / ".cache" / "hidden.mp4", class_mp4s[2])
    assert paths_of(load_video_source(nested)["train"]) == ["a.mp4", "b.mkv"]

    classes = tmp_path / "classes"
    put(classes / "dog" / "a.mp4", class_mp4s[0]), put(classes / "cat" / "b.mp4", class_mp4s[1])
    assert load_video_source(classes)["train"].features["label"].names == ["cat", "dog"]

    metadata = tmp_path / "metadata"
    put(metadata / "train" / "clips" / "a.mp4", class_mp4s[3]), put(metadata / "train" / "b.mp4", class_mp4s[4])
    put(metadata / "test" / "c.webm", class_mp4s[3])
    (metadata / "train" / "metadata.csv").write_text("file_name,label,caption\nclips/a.mp4,jump,x\nb.mp4,run,y\n")
    (metadata / "test" / "metadata.jsonl").write_text('{"file_name": "c.webm", "label": "jump"}\n')
    loaded = load_video_source(metadata)
    assert set(loaded) == {"train", "test"} and loaded["test"].features["label"].names == ["jump", "run"]
    assert_rows_match_labels(loaded["train"], {"jump": 3, "run": 4})
    assert_rows_match_labels(loaded["test"], {"jump": 3, "run": 4})
    root_metadata = tmp_path / "root_metadata"
    put(root_metadata / "a.mp4", class_mp4s[0])
    (root_metadata / "metadata.jsonl").write_text('{"file_name": "a.mp4"}\n')
    assert list(load_video_source(root_metadata)["train"].features) == ["video"]

    lists = tmp_path / "lists"
    put(lists / "v" / "a.mp4", class_mp4s[5]), put(lists / "v" / "b.mp4", class_mp4s[6])
    (lists / "labelled.txt").write_text("v/a.mp4 wave\nv/b.mp4 clap\n")
    (lists / "plain.txt").write_text("v/a.mp4\n\nv/b.mp4\n")
    (lists / "rows.jsonl").write_text('{"path": "v/a.mp4", "label": 1}\n{"path": "v/b.mp4", "label": 0}\n')
    (lists / "paths.csv").write_text("video\nv/a.mp4\nv/b.mp4\n")
    assert_rows_match_labels(load_video_source(lists / "labelled.txt")["train"], {"wave": 5, "clap": 6})
    assert_rows_match_labels(load_video_source(lists / "rows.jsonl")["train"], {"1": 5, "0": 6})
    for unlabelled in ("plain.txt", "paths.csv"):
        assert list(load_video_source(lists / unlabelled)["train"].features) == ["video"]

    (lists / "partial.txt").write_text("v/a.mp4 wave\nv/b.mp4\n")
    with pytest.raises(ValueError, match=r"partial\.txt:2: this row has no label"):
        load_video_source(lists / "partial.txt")
    (lists / "missing.jsonl").write_text('{"path": "v/nope.mp4"}\n')
    with pytest.raises(FileNotFoundError, match=r"nope\.mp4 \(listed at .*missing\.jsonl:1\)"):
        load_video_source(lists / "missing.jsonl")
    with pytest.raises(FileNotFoundError, match="no video folder or list"):
        load_video_source(tmp_path / "nowhere")


def test_a_train_only_source_lends_evaluation_a_deterministic_holdout(tmp_path, class_mp4s):
    from hfvid.data.sources import holdout_key, load_video_dataset

    for k in range(40):
        put(tmp_path / f"class{k % 2}" / f"{k}.mp4", class_mp4s[k % 2])
    with pytest.raises(ValueError, match="has no split 'test'.*holdout_fraction"):
        load_video_dataset(str(tmp_path), split="test")
    train = load_video_dataset(str(tmp_path), split="train", holdout_fraction=0.25)
    test = load_video_dataset(str(tmp_path), split="test", holdout_fraction=0.25)
    assert len(load_video_dataset(str(tmp_path), split="train")) == 40  # pre-training still sees every video
    assert set(paths_of(train)).isdisjoint(paths_of(test)) and len(train) + len(test) == 40
    # Exactly the videos whose path hashes below the fraction (which ones depends on the temporary folder's path)...
    held_out = {f"{k}.mp4" for k in range(40) if holdout_key(str(tmp_path / f"class{k % 2}" / f"{k}.mp4")) < 0.25}
    assert set(paths_of(test)) == held_out
    # ... and the hash spreads paths evenly: a quarter of 4000 fixed paths, within 3 points.
    share = np.mean([holdout_key(f"/videos/class{k % 7}/{k}.mp4") < 0.25 for k in range(4000)])
    assert 0.22 <= share <= 0.28, share
    assert paths_of(load_video_dataset(str(tmp_path), split="test", holdout_fraction=0.25)) == paths_of(test)
    with pytest.raises(FileNotFoundError, match="does not look like a Hub dataset"):
        load_video_dataset(str(tmp_path / "typo"), split="train")


def test_holds_out_says_which_sources_lend_a_held_out_split(tmp_path, class_mp4s, synthmotion_dir):
    from hfvid.data.sources import holds_out, load_video_dataset

    plain, split = tmp_path / "plain", tmp_path / "split"
    for k in range(8):
        put(plain / f"class{k % 2}" / f"{k}.mp4", class_mp4s[k % 2])
        put(split / ("train" if k < 6 else "test") / f"class{k % 2}" / f"{k}.mp4", class_mp4s[k % 2])
    assert holds_out(plain, "test", 0.25) and holds_out(str(plain), "validation", 0.5) and holds_out(plain, "train", 0.25)
    assert not holds_out(plain, "test", 0) and not holds_out(plain, "test", None)  # 0 turns it off
    assert not holds_out(split, "test", 0.25)  # the source's own test split
    assert not holds_out(synthmotion_dir, "test", 0.25) and not holds_out("user/some-hub-dataset", "test", 0.25)
    with pytest.raises(ValueError, match="has no split 'test'.*holdout_fraction"):
        load_video_dataset(str(plain), split="test", holdout_fraction=0)
    with pytest.raises(ValueError, match=r"holdout_fraction must be in \(0, 1\), got 1.5"):
        load_video_dataset(str(plain), split="test", holdout_fraction=1.5)
