"""`benchmarks/bench_motion_prediction.py`'s decoder (NextFrame's `FiLMFrameDecoder`): the motion code is the only
way the motion reaches it."""

import sys
from pathlib import Path

import numpy as np
import torch

from hfvid.data.encoding import write_mp4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_motion_prediction import CCW, CLASS_NAMES, CW, load_video_folder  # noqa: E402

from hfvid.models.nextframe import FiLMFrameDecoder  # noqa: E402


def test_the_decoder_predicts_a_frame_from_the_last_frame_and_the_code():
    torch.manual_seed(0)
    decoder = FiLMFrameDecoder(code_dim=8, channels=3, width=16, layers=3)
    with torch.no_grad():
        decoder.film.weight.normal_()  # trained FiLM weights are not zero; a fresh nn.Linear's are small, not zero
    frame = torch.randn(2, 3, 12, 12)
    code = torch.randn(2, 8)
    prediction = decoder(frame, code)
    assert prediction.shape == frame.shape
    assert not torch.allclose(prediction, decoder(frame, torch.randn(2, 8)))  # another code, another prediction
    torch.testing.assert_close(decoder(frame[:1], code[:1]), prediction[:1])  # each clip's own code


def test_the_rotation_classes_are_named_in_the_loops_label_order():
    assert (CLASS_NAMES[CW], CLASS_NAMES[CCW]) == ("rotate_cw", "rotate_ccw")
    assert CLASS_NAMES == sorted(CLASS_NAMES)  # bench_plateau.load_split numbers the sorted class names


def test_a_video_folder_loads_with_the_loops_labels(tmp_path):
    rng = np.random.default_rng(0)
    for split, names in (("train", ["zoom_in", "rotate_cw"]), ("test", ["rotate_cw"])):
        for index, name in enumerate(names):
            write_mp4(tmp_path / split / name / f"{index}.mp4", rng.integers(0, 255, (10, 64, 48, 3), dtype=np.uint8))
    (train_videos, train_labels), (test_videos, test_labels) = load_video_folder(str(tmp_path))
    assert train_videos.shape == (2, 10, 3, 32, 32) and test_videos.shape == (1, 10, 3, 32, 32)
    assert [CLASS_NAMES[label] for label in train_labels] == ["rotate_cw", "zoom_in"]  # sorted paths
    assert [CLASS_NAMES[label] for label in test_labels] == ["rotate_cw"]
    assert abs(train_videos.mean().item()) < 1e-5 and abs(train_videos.std().item() - 1) < 1e-4  # the train split's statistics
