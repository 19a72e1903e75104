"""`benchmarks/bench_motion_prediction.py`'s decoder: the motion code is the only way the motion reaches it."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_motion_prediction import CCW, CLASS_NAMES, CW, MotionCodeDecoder  # noqa: E402


def test_the_decoder_predicts_a_frame_from_the_last_frame_and_the_code():
    torch.manual_seed(0)
    decoder = MotionCodeDecoder(code_dim=8, channels=3, width=16, layers=3)
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
