"""Per-frame labels from MS-TCN-style files (a label per line) and segment files, added to a real `datasets` column."""

import datasets
import numpy as np
import pytest

from hfvid.data.encoding import write_mp4
from hfvid.data.frame_labels import add_frame_labels, read_frame_labels, read_mapping


@pytest.fixture
def videos(tmp_path):
    frames = np.zeros((6, 16, 16, 3), dtype=np.uint8)
    paths = [str(write_mp4(tmp_path / "videos" / f"{name}.mp4", frames, fps=6)) for name in ("cut_bread", "pour_milk")]
    return datasets.Dataset.from_dict({"video": paths}).cast_column("video", datasets.Video(decode=False))


def test_both_formats_and_a_mapping(videos, tmp_path):
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "cut_bread.txt").write_text("background\nbackground\ncut\ncut\ncut\nbackground\n")  # a label per frame
    (labels / "pour_milk.txt").write_text("1-2 background\n3 5 pour\n6-6 background\n")  # segments, frames from 1
    assert read_frame_labels(labels / "pour_milk.txt") == ["background", "background", "pour", "pour", "pour", "background"]
    (tmp_path / "mapping.txt").write_text("0 background\n1 cut\n2 pour\n")
    assert read_mapping(tmp_path / "mapping.txt") == ["background", "cut", "pour"]

    labelled = add_frame_labels(videos, labels, mapping=tmp_path / "mapping.txt")
    assert labelled.features["phases"].feature.names == ["background", "cut", "pour"]
    assert labelled["phases"] == [[0, 0, 1, 1, 1, 0], [0, 0, 2, 2, 2, 0]]
    unmapped = add_frame_labels(videos, labels, column="actions")  # names in sorted order without a mapping
    assert unmapped.features["actions"].feature.names == ["background", "cut", "pour"]


def test_errors_name_the_file_and_the_problem(videos, tmp_path):
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "cut_bread.txt").write_text("a\n" * 6)
    with pytest.raises(FileNotFoundError, match="no frame labels for pour_milk.mp4: expected .*pour_milk.txt"):
        add_frame_labels(videos, labels)
    (labels / "pour_milk.txt").write_text("1-2 a\n4-6 b\n")
    with pytest.raises(ValueError, match=r"pour_milk.txt: frames \[3\] are in no segment"):
        add_frame_labels(videos, labels)
    (labels / "pour_milk.txt").write_text("0-5 a\n")
    assert read_frame_labels(labels / "pour_milk.txt", first_frame=0) == ["a"] * 6
    (tmp_path / "mapping.txt").write_text("0 b\n")
    (labels / "pour_milk.txt").write_text("b\n" * 6)
    with pytest.raises(ValueError, match=r"cut_bread.txt: labels \['a'\] are not in the mapping"):
        add_frame_labels(videos, labels, mapping=tmp_path / "mapping.txt")
    (tmp_path / "bad_mapping.txt").write_text("zero a\n")
    with pytest.raises(ValueError, match="bad_mapping.txt, line 1: expected '<id> <name>'"):
        read_mapping(tmp_path / "bad_mapping.txt")


def test_evaluation_reads_frame_labels_of_a_video_folder(tmp_path):
    import hfvid
    from hfvid.evaluation.report import evaluate_model
    from hfvid.models.mvformer import MVFormerModel, MVFormerVideoProcessor

    rng = np.random.default_rng(0)
    labels = tmp_path / "labels"
    labels.mkdir()
    for split in ("train", "test"):
        for index in range(3):
            name = f"{split}{index}"
            write_mp4(tmp_path / "data" / split / "clips" / f"{name}.mp4", rng.integers(0, 255, (8, 16, 16, 3), dtype=np.uint8), fps=8)
            (labels / f"{name}.txt").write_text("1-3 start\n4-8 end\n")
    config = hfvid.get_config("mvformer-vit-tiny")
    model, processor = MVFormerModel(config).eval(), MVFormerVideoProcessor.from_model_config(config)
    results = evaluate_model(model, processor, source=str(tmp_path / "data"), protocols=["phase", "kendall", "segmentation"],
                             frame_labels=labels, progress=False)  # fmt: skip
    assert {"phase_top1", "kendalls_tau", "mof"} <= set(results["metrics"])
