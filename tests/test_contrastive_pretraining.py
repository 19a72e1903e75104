"""Every contrastive / predictive method pre-trains through training/pretrain.py on (tiny) SynthMotion and
its loss goes down; the saved model loads with the Auto classes and its card renders."""

from __future__ import annotations

import json

import pytest
from conftest import losses, run_in_process
from transformers import AutoConfig, AutoModel, AutoModelForPreTraining, AutoVideoProcessor

from hfvid.presets import processor_for_config

# Queues of 16 keys fill within two steps of 8 videos, so their loss is comparable from step 3 on; the others' from
# step 1 (BYOL's falls from 2.0 to 1.0 within its first 4 steps and then wanders by 0.3 on these 16 videos).
QUEUE_METHODS = ("moco-r3d18-tiny", "rince-r3d18-tiny")
METHOD_RUNS = {
    "moco-r3d18-tiny": "queue_size=16",
    "rince-r3d18-tiny": "queue_size=16",
    "simclr-r3d18-tiny": "",
    "byol-r3d18-tiny": "",
    "simsiam-r3d18-tiny": "",
    "bfp-r3d18-tiny": "",
    "brave-r3d18-tiny": "",
    "lsfd-r3d18-tiny": "",
    "hdc-r3d18-tiny": "",
    "nextframe-r3d18-tiny": "",
}


@pytest.mark.parametrize("preset", METHOD_RUNS)
def test_pretraining_lowers_the_loss_and_saves_a_loadable_model(preset, synthmotion_dir, tmp_path):
    out = tmp_path / preset
    argv = ["--model", preset, "--config_overrides", METHOD_RUNS[preset], "--dataset", synthmotion_dir,
            "--batch_size", "8", "--max_steps", "24", "--learning_rate", "3e-3", "--warmup_steps", "2",
            "--logging_steps", "4", "--checkpointing_steps", "24", "--no_evaluate", "--output_dir", str(out)]  # fmt: skip
    summary = run_in_process(argv)
    assert summary["steps"] == 24 and summary["num_skipped_videos"] == 0
    per_step = [losses(out)[step] for step in range(1, 25)]
    first = 2 if preset in QUEUE_METHODS else 0
    early, late = sum(per_step[first : first + 6]) / 6, sum(per_step[-6:]) / 6
    assert late < early, f"{preset}: loss did not go down: {[round(x, 3) for x in per_step]}"

    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == preset.split("-")[0]
    assert type(AutoModel.from_pretrained(out)).__name__.endswith("Model")
    assert type(AutoModelForPreTraining.from_pretrained(out)).__name__.endswith("ForPreTraining")
    processor = AutoVideoProcessor.from_pretrained(out).to_dict()
    processor.pop("auto_map")
    assert processor == processor_for_config(AutoConfig.from_pretrained(out)).to_dict()
    card = (out / "README.md").read_text()
    assert "## Citation" in card and "@" in card and AutoConfig.from_pretrained(out).method_name in card
