"""Under DDP (2 CPU processes, gloo) the contrastive methods gather keys and negatives across processes, so
a run on a split batch matches one process on the whole batch: same losses, same weights (BYOL and SimSiam
have no cross-sample terms; they are checked too, for their momentum target and the DDP gradient average, as are
NextFrame, VideoMAE and V-JEPA)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tests" / "distributed_steps.py"
PRESETS = ["moco-r3d18-tiny", "simclr-r3d18-tiny", "rince-r3d18-tiny", "byol-r3d18-tiny", "simsiam-r3d18-tiny", "bfp-r3d18-tiny",
           "brave-r3d18-tiny", "lsfd-r3d18-tiny", "hdc-r3d18-tiny", "nextframe-r3d18-tiny", "videomae-vit-tiny", "vjepa-vit-tiny"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    single, ddp = tmp_path_factory.mktemp("single"), tmp_path_factory.mktemp("ddp")
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
              "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]  # fmt: skip
    for command in ([sys.executable, str(SCRIPT), str(single), *PRESETS], [*launch, str(SCRIPT), str(ddp), *PRESETS]):
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO)
        assert result.returncode == 0, result.stderr[-4000:]
    return single, ddp


def test_rows_of_unequal_size_gather_in_process_order(runs):
    _, ddp = runs
    assert json.loads((ddp / "gather.json").read_text()) == {"equal": True}


@pytest.mark.parametrize("preset", PRESETS)
def test_two_processes_match_one_process_on_the_whole_batch(runs, preset):
    single, ddp = runs
    single_losses = json.loads((single / f"{preset}.json").read_text())["losses"]
    ddp_losses = json.loads((ddp / f"{preset}.json").read_text())["losses"]
    assert ddp_losses == pytest.approx(single_losses, rel=1e-5, abs=1e-6)
    assert single_losses[-1] != single_losses[0]  # the steps changed the model
    single_state, ddp_state = load_file(single / f"{preset}.safetensors"), load_file(ddp / f"{preset}.safetensors")
    assert single_state.keys() == ddp_state.keys()
    initial = load_file(single / f"{preset}.initial.safetensors")
    for name, value in single_state.items():
        # Summing a gradient over a split batch reorders float32 sums, so the weights differ by float noise of what the
        # steps changed (SGD at lr 0.5 moves LSFD's stationary head by ~0.5 in these steps, where the split batch
        # differs by ~4e-5 on some CPUs): each tensor may differ by 1e-3 of its largest change, and no more. A real
        # difference (a missing gather or gradient average) is of the order of the change itself.
        if not value.is_floating_point():
            assert torch.equal(ddp_state[name], value), name
            continue
        change = (value - initial[name]).abs().max().item()
        torch.testing.assert_close(ddp_state[name], value, rtol=0, atol=1e-3 * change + 1e-6, msg=name)
