"""benchmarks/bench_finetune.py end to end on a tiny SynthMotion (2 learning rates, 2 seeds, 2 steps each): the table
it writes, the plot it draws, and a table drawn again from its file."""

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_finetune  # noqa: E402


def test_the_sweep_writes_its_table_and_draws_it(synthmotion_dir, tmp_path):
    output = tmp_path / "sweep.md"
    rows = bench_finetune.main(
        ["--models", "transrank-r3d18-tiny", "--learning_rates", "1e-3,1e-2", "--seeds", "0,1", "--max_steps", "2",
         "--batch_size", "4", "--dataset", synthmotion_dir, "--data_dir", synthmotion_dir, "--num_workers", "0",
         "--output_root", str(tmp_path / "runs"), "--output", str(output)]
    )  # fmt: skip
    assert [(row["learning_rate"], len(row["accuracies"])) for row in rows] == [(1e-3, 2), (1e-2, 2)]
    for png in (output.with_suffix(".png"), tmp_path / "runs" / "finetune.png"):
        assert png.read_bytes().startswith(b"\x89PNG")
    read, chance = bench_finetune.read_table(output)  # the file gives back what the run measured
    assert chance == 12.5
    assert [(row["learning_rate"], row["accuracies"]) for row in read] == [
        (row["learning_rate"], [round(a, 1) for a in row["accuracies"]]) for row in rows
    ]


def test_replot_draws_a_written_table_again(tmp_path):
    table = tmp_path / "finetune_lr_dotmotion.md"
    shutil.copy(ROOT / "docs" / "results" / "finetune_lr_dotmotion.md", table)
    rows = bench_finetune.main(["--replot", str(table)])
    assert len(rows) == 12 and {len(row["accuracies"]) for row in rows} == {3}
    assert table.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    (tmp_path / "other.md").write_text("| a | b |\n")
    with pytest.raises(ValueError, match="other.md is not a table of bench_finetune.py"):
        bench_finetune.read_table(tmp_path / "other.md")
