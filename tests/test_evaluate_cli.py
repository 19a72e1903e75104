"""training/evaluate.py end to end: a saved tiny TransRank checkpoint on the tiny SynthMotion set, every protocol."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import save_tiny_transrank

from hfvid.evaluation.report import FRAME_METRICS, METRIC_NAMES

SCRIPT = Path(__file__).resolve().parents[1] / "training" / "evaluate.py"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    # One torch thread: tiny tensors, and the test machine's cores are shared.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=300)


def load_script():
    """The program training/evaluate.py runs, as a module (in this process: no second import of torch and
    transformers)."""
    from hfvid.cli import evaluate

    return evaluate


def test_help_documents_every_option():
    parser = load_script().build_parser()
    help_text = parser.format_help()
    for action in parser._actions:
        assert action.help, f"{action.option_strings} has no help"
    for option in ("--model", "--dataset", "--protocols", "--num_clips", "--batch_size", "--output_dir"):
        assert option in help_text
    assert "--compare_random_init" in help_text


def test_evaluate_cli_writes_results_plots_and_comparison(synthmotion_dir, tmp_path):
    model_dir = tmp_path / "tiny-transrank"
    save_tiny_transrank(model_dir, seed=1)  # not the CLI's random-init seed (0), so the two models differ
    output_dir = tmp_path / "eval"

    result = run_cli(
        "--model", str(model_dir), "--dataset", synthmotion_dir,
        "--protocols", "retrieval,knn,linear,attentive,motion,sync,order", "--batch_size", "4", "--output_dir", str(output_dir), "--compare_random_init", "--no_progress",
        "--finetune_steps", "2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]

    for folder, name in ((output_dir, "tiny-transrank"), (output_dir / "random_init", "random init")):
        results = json.loads((folder / "results.json").read_text())
        assert results["model"] == name
        # Every frozen protocol and the fine-tune top-1; R@k only where chance is below 50% (2 videos per class of 16).
        assert set(results["metrics"]) == set(METRIC_NAMES) - {"R@5", "R@10", "R@20", "R@50", *FRAME_METRICS}
        assert all(0 <= value <= 1 for value in results["metrics"].values())
        for png in ("recall_at_k.png", "confusion_matrix.png"):
            assert (folder / png).read_bytes()[:4] == b"\x89PNG"
    assert (output_dir / "recall_at_k_comparison.png").is_file()
    comparison = (output_dir / "comparison.md").read_text()
    assert "| Metric (%) | tiny-transrank | random init | chance |" in comparison
    assert comparison.split("\n\n", 1)[1] in result.stdout  # the printed table


def test_a_folder_without_split_folders_is_scored_on_a_held_out_part(synthmotion_dir, tmp_path):
    """A labelled set as a folder of class folders with no split folders (a held-out set someone keeps outside the
    project, say): the probes train on part of it and score a part held out by a hash of each path, and the output
    says so; with --eval_holdout 0 the missing split is an error that names it."""
    import shutil

    from hfvid.data.synthetic import load_synthmotion

    folder = tmp_path / "class_folders"
    for split in ("train", "test"):
        dataset = load_synthmotion(synthmotion_dir, split=split, decode=False)
        names = dataset.features["label"].names
        for row in dataset:
            (folder / names[row["label"]]).mkdir(parents=True, exist_ok=True)
            shutil.copy(row["video"]["path"], folder / names[row["label"]] / f"{split}-{Path(row['video']['path']).name}")
    model_dir = tmp_path / "tiny-transrank"
    save_tiny_transrank(model_dir)
    output_dir = tmp_path / "eval"
    common = ("--model", str(model_dir), "--dataset", str(folder), "--protocols", "knn,linear", "--batch_size", "4", "--no_progress")

    result = run_cli(*common, "--output_dir", str(output_dir), "--compare_random_init")
    assert result.returncode == 0, result.stderr[-3000:]
    note = f"{folder} has no 'test' split: scoring a deterministic 20% of 'train' held out by a hash of each video's path"
    assert note in result.stdout
    results = json.loads((output_dir / "results.json").read_text())
    assert results["data"]["held_out"].startswith(note)
    num_train, num_test = results["data"]["num_train_videos"], results["data"]["num_test_videos"]
    assert 0 < num_test < num_train and num_train + num_test == 24
    assert json.loads((output_dir / "random_init" / "results.json").read_text())["data"]["held_out"].startswith(note)

    result = run_cli(*common, "--output_dir", str(tmp_path / "eval0"), "--eval_holdout", "0")
    assert result.returncode != 0
    assert f"{folder} has no split 'test' (it has train)" in result.stderr


def test_a_seeds_random_init_is_the_same_backbone_whatever_the_method():
    """The random-weights baseline of a seed depends on the backbone, not on the method class around it: LSFD's
    `AutoModel` builds two heads before its backbone is initialised, so ``AutoModel.from_config`` under the same
    seed draws it other backbone weights than the methods without heads get; `random_init_model` does not."""
    import torch
    from transformers import AutoModel, VideoMAEConfig

    import hfvid
    from hfvid.models.modeling_utils import random_init_model

    def backbone_weights(model):
        return torch.cat([tensor.flatten().float() for tensor in model.backbone.state_dict().values()])

    lsfd, simclr = hfvid.get_config("lsfd-r3d18-tiny"), hfvid.get_config("simclr-r3d18-tiny")
    assert lsfd.backbone == simclr.backbone
    torch.manual_seed(0)
    plain_lsfd = backbone_weights(AutoModel.from_config(lsfd))
    torch.manual_seed(0)
    plain_simclr = backbone_weights(AutoModel.from_config(simclr))
    assert not torch.equal(plain_lsfd, plain_simclr)  # what the helper is for

    for name in ("lsfd-r3d18-tiny", "transrank-r3d18-tiny", "moco-r3d18-tiny", "byol-r3d18-tiny"):
        model = random_init_model(hfvid.get_config(name), seed=0)
        assert torch.equal(backbone_weights(model), plain_simclr), name
    assert not torch.equal(backbone_weights(random_init_model(simclr, seed=1)), plain_simclr)

    # A transformers model (VideoMAE's encoder, its config as a saved folder has it): AutoModel.from_config after
    # the seed, so the same weights for one seed.
    videomae = VideoMAEConfig.from_dict(hfvid.get_config("videomae-vit-tiny").to_dict())
    first, second = random_init_model(videomae, seed=3), random_init_model(videomae, seed=3)
    assert type(first).__name__ == "VideoMAEModel"
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
