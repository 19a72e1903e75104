"""`benchmarks/bench_speediness.py`'s seeds table and plots, from per-seed results laid out as `run` returns them."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_speediness import plot_seeds, seeds_table  # noqa: E402

from hfvid.evaluation.speediness import speediness_summary  # noqa: E402


def summary(low, mid, high):
    """Two videos of one clip each at speeds 0.5, 1 and 2."""
    scores = {0.5: torch.tensor(low), 1.0: torch.tensor(mid), 2.0: torch.tensor(high)}
    return speediness_summary(scores, clips_per_video=1)


def fake_runs():
    ordered, half = summary([0.0, 0.0], [1.0, 1.0], [2.0, 2.0]), summary([0.0, 2.0], [1.0, 1.0], [2.0, 0.0])
    return {
        seed: {"summary": {"real clips": {
            "same moment": {"TransRank": ordered, "random init": half}, "any moment": {"TransRank": half}, "whole video": {"TransRank": ordered},
        }}}
        for seed in (0, 1)
    }  # fmt: skip


def test_seeds_table_rows_per_data_pairing_and_model():
    rows = seeds_table(fake_runs()).splitlines()
    assert rows[0].startswith("| data | protocol | model | 0.5x<1x | 1x<2x |")
    assert rows[2] == "| real clips | same moment | TransRank | 100 +- 0 (100, 100) | 100 +- 0 (100, 100) | 2/2 | 100% |"
    assert rows[3] == "| real clips | same moment | random init | 50 +- 0 (50, 50) | 50 +- 0 (50, 50) | 0/2 | 50% |"
    assert rows[4].startswith("| real clips | any moment | TransRank | 50 +- 0")
    assert rows[5].startswith("| real clips | whole video | TransRank | 100 +- 0")
    assert len(rows) == 6


def test_plot_seeds_writes_one_png_per_data_and_pairing(tmp_path):
    paths = plot_seeds(fake_runs(), tmp_path / "speediness")
    assert [path.name for path in paths] == [
        "speediness_real_clips_same_moment.png", "speediness_real_clips_any_moment.png", "speediness_real_clips_whole_video.png",
    ]  # fmt: skip
    assert all(path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for path in paths)
