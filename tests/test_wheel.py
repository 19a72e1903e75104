"""A wheel built from the repo, installed in a fresh virtual environment outside the checkout, runs the main job
through its installed command (`hfvid-pretrain`): pre-training, evaluation, model folder with its card."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hfvid.hub.space import build_wheel

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_installed_wheel_runs_the_main_job_outside_the_checkout(synthmotion_dir, tmp_path):
    # Built as the Space build builds it: from a copy of the checkout's sources (building writes build/ beside them).
    (tmp_path / "dist").mkdir()
    wheel = build_wheel(REPO, tmp_path / "dist")
    # The pinned dependencies come from this machine's site-packages; hfvid itself only from the wheel.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(tmp_path / "venv")], check=True, timeout=300)
    bin_dir = tmp_path / "venv" / "bin"
    subprocess.run([bin_dir / "pip", "install", "--no-deps", "-q", str(wheel)], check=True, capture_output=True, timeout=300)
    where = subprocess.run([bin_dir / "python", "-c", "import hfvid; print(hfvid.__file__)"], cwd=tmp_path,
                           check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    assert where.startswith(str(tmp_path / "venv")), where

    run = subprocess.run(
        [bin_dir / "hfvid-pretrain", "--dataset", synthmotion_dir, "--max_steps", "3", "--batch_size", "2",
         "--logging_steps", "1", "--eval_protocols", "knn", "--output_dir", "run"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    out = tmp_path / "run"
    assert (out / "model.safetensors").is_file() and json.loads((out / "training_info.json").read_text())["steps"] == 3
    assert "kNN top-1" in (out / "README.md").read_text()  # the card, with the evaluation against random init
    for command in ("hfvid-finetune", "hfvid-evaluate"):
        assert subprocess.run([bin_dir / command, "--help"], capture_output=True, timeout=300).returncode == 0
