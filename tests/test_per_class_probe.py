"""`benchmarks/per_class_probe.py`'s row: per-class recall and the pair of classes most often swapped."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import per_class_probe  # noqa: E402


def test_a_row_names_the_pair_swapped_most():
    confusion = np.array(
        [
            [10, 0, 0, 0],
            [0, 9, 1, 0],
            [0, 0, 4, 6],  # classes 2 and 3 are mistaken for each other
            [0, 0, 5, 5],
        ]
    )
    overall, recall, (i, j, share) = per_class_probe.per_class_row(confusion)
    assert overall == pytest.approx(100 * 28 / 40)
    assert recall == pytest.approx([100, 90, 40, 50])
    assert (i, j) == (2, 3)
    assert share == pytest.approx(100 * 11 / 20)
