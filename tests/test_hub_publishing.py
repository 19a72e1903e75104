"""Model cards, the one-commit push's dry run served back by a real Hub, and torchvision weight conversion."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision
from conftest import save_tiny_transrank
from hub_server import hub_env, serve_local_hub
from huggingface_hub import ModelCard, ModelCardData
from huggingface_hub.repocard_data import model_index_to_eval_results

from hfvid.backbones.registry import build_backbone
from hfvid.convert.torchvision import convert_checkpoint, load_backbone_checkpoint
from hfvid.hub.model_card import write_model_card
from hfvid.hub.push import files_to_upload, push_model_folder

RUN_INFO = {
    "model": "transrank-r3d18-tiny", "dataset": "synthmotion", "split": "train", "steps": 7, "batch_size_per_process": 2,
    "num_processes": 1, "learning_rate": 0.001, "optimizer": "adamw", "mixed_precision": "no", "seed": 0,
    "num_skipped_videos": 0, "device": "cpu",
}
MODEL_INDEX = [{"name": "tiny", "results": [{
    "task": {"type": "video-retrieval", "name": "Video Retrieval"},
    "dataset": {"name": "synthmotion", "type": "synthmotion", "split": "test"},
    "metrics": [{"type": "recall", "value": 0.25, "name": "Retrieval R@1"}],
}]}]  # fmt: skip


@pytest.fixture
def model_folder(tmp_path) -> Path:
    folder = tmp_path / "transrank-tiny"
    save_tiny_transrank(folder)
    (folder / "checkpoints" / "checkpoint-7").mkdir(parents=True)
    (folder / "checkpoints" / "checkpoint-7" / "optimizer.bin").write_bytes(b"x" * 10)
    (folder / "metrics.jsonl").write_text('{"step": 1, "loss": 2.0}\n')
    _, eval_results = model_index_to_eval_results(MODEL_INDEX)
    write_model_card(folder, RUN_INFO, eval_results=eval_results, results_table="| a | b |\n|---|---|\n| 1 | 2 |\n",
                     repo_id="hfvid/transrank-tiny", dataset_names=["synthmotion"])  # fmt: skip
    return folder


def test_card_metadata_passes_the_hub_checks(model_folder):
    # huggingface_hub's own metadata checks: parsing the card's YAML into ModelCardData raises on a malformed
    # model-index (RepoCard.validate() posts the card to the Hub, which is not reachable here).
    card = ModelCard.load(model_folder / "README.md", ignore_metadata_errors=False)
    data = card.data.to_dict()
    ModelCardData(**data, ignore_metadata_errors=False)
    assert data["library_name"] == "hfvid" and data["license"] == "apache-2.0"
    assert {"self-supervised", "video"} <= set(data["tags"]) and "datasets" not in data  # synthmotion: no Hub id
    assert data["pipeline_tag"] == "feature-extraction"
    assert data["model-index"][0]["results"][0]["metrics"][0]["value"] == 0.25
    assert "for 7 optimiser steps of 2 videos x 1 process(es) on `cpu`" in card.text
    assert 'pipeline("video-feature-extraction", model="hfvid/transrank-tiny")' in card.text
    assert "@inproceedings{duan2022transrank" in card.text


def test_dry_run_is_exactly_the_upload_and_loads_back_through_a_real_hub(model_folder, tmp_path):
    upload = Path(push_model_folder(model_folder, "hfvid/transrank-tiny", dry_run_dir=tmp_path / "upload"))
    written = sorted(p.relative_to(upload) for p in upload.rglob("*") if p.is_file())
    assert written == files_to_upload(model_folder)
    names = {p.as_posix() for p in written}
    assert {"config.json", "model.safetensors", "video_preprocessor_config.json", "README.md", "modeling_transrank.py"} <= names
    assert not any(name.startswith("checkpoints/") or name == "metrics.jsonl" for name in names)

    script = (
        "import sys, json, hfvid\n"
        "from huggingface_hub import snapshot_download, ModelCard\n"
        "from transformers import AutoModel, AutoVideoProcessor\n"
        "folder = snapshot_download(sys.argv[1])\n"
        "AutoModel.from_pretrained(sys.argv[1]); AutoVideoProcessor.from_pretrained(sys.argv[1])\n"
        "card = ModelCard.load(sys.argv[1])\n"
        "print(json.dumps({'library': card.data.library_name, 'results': len(card.data.eval_results)}))\n"
    )
    with serve_local_hub({"hfvid/transrank-tiny": upload}, tmp_path / "hub") as endpoint:
        result = subprocess.run([sys.executable, "-c", script, "hfvid/transrank-tiny"], env=hub_env(endpoint, tmp_path / "hf"),
                                capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"library": "hfvid", "results": 1}


def test_card_metadata_and_limitations_fit_the_data(tmp_path):
    save_tiny_transrank(tmp_path)
    run = {**RUN_INFO, "dataset": "someone/kitchen-videos"}
    card = ModelCard.load(write_model_card(tmp_path, run, dataset_names=["someone/kitchen-videos"]))
    assert card.data.datasets == ["someone/kitchen-videos"]  # a Hub dataset id is Hub metadata
    assert "SynthMotion" not in card.text and "The numbers above" not in card.text and "Not evaluated" in card.text
    card = ModelCard.load(write_model_card(tmp_path, RUN_INFO, dataset_names=["synthmotion"]))
    assert card.data.datasets is None and "this model has seen no natural video" in card.text


def test_the_pushed_card_names_the_repo_it_goes_to(model_folder, tmp_path):
    upload = Path(push_model_folder(model_folder, "someone/my-video-model", dry_run_dir=tmp_path / "upload"))
    card = ModelCard.load(upload / "README.md", ignore_metadata_errors=False)
    assert card.data.model_name == "someone/my-video-model"
    assert 'model="someone/my-video-model"' in card.text and "hfvid/transrank-tiny" not in card.text
    assert "hfvid/transrank-tiny" in (model_folder / "README.md").read_text()  # the local folder is left as it was


def test_push_refuses_a_folder_that_is_not_a_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="no config.json"):
        push_model_folder(tmp_path, "hfvid/x", dry_run_dir=tmp_path / "out")


@pytest.mark.parametrize("arch", ["r3d_18", "r2plus1d_18"])
def test_torchvision_conversion_gives_the_same_features(arch, tmp_path):
    torch.manual_seed(0)
    reference = getattr(torchvision.models.video, arch)(weights=None).eval()
    for module in reference.modules():  # random BN statistics, so a wrong mapping cannot hide
        if isinstance(module, torch.nn.BatchNorm3d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 1.5)
    torch.save(reference.state_dict(), tmp_path / "weights.pth")
    command = [sys.executable, "-m", "hfvid.convert.torchvision", "--arch", arch, "--weights", str(tmp_path / "weights.pth"), "--out", str(tmp_path / "converted")]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    backbone = build_backbone(arch).eval()
    load_backbone_checkpoint(backbone, tmp_path / "converted")
    reference.fc = torch.nn.Identity()
    clip = torch.randn(1, 3, 8, 56, 56)
    with torch.no_grad():
        assert torch.allclose(backbone(clip.transpose(1, 2)).pooler_output, reference(clip), atol=1e-4)
    with pytest.raises(ValueError, match="backbone"):
        load_backbone_checkpoint(build_backbone("r3d_tiny"), tmp_path / "converted")
    with pytest.raises(ValueError, match="arch must be one of"):
        convert_checkpoint("resnet50", tmp_path / "weights.pth", tmp_path / "bad")
