"""The local olah Hub serves committed folders byte-for-byte to huggingface_hub and transformers clients."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hub_server import hub_env, serve_local_hub, use_local_hub

REPO_ID = "hfvid/test-model"
FILES = ("config.json", "model.safetensors", "README.md")

# Runs in a fresh interpreter so HF_ENDPOINT / HF_HOME are read at import, as for a real user.
DOWNLOAD_SCRIPT = """
import json, sys, time
from huggingface_hub import hf_hub_download, snapshot_download
from huggingface_hub.errors import RepositoryNotFoundError

start = time.monotonic()
snapshot = snapshot_download(sys.argv[1])
config = hf_hub_download(sys.argv[1], "config.json")
seconds = time.monotonic() - start
try:
    snapshot_download("hfvid/no-such-model")
    missing = None
except RepositoryNotFoundError as err:
    missing = [err.response.status_code, err.response.headers.get("x-error-code")]
print(json.dumps({"snapshot": snapshot, "config": config, "seconds": seconds, "missing": missing}))
"""


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory) -> Path:
    """A saved-model-like folder: a transformers config, 3 MB of binary "weights" and a model card."""
    folder = tmp_path_factory.mktemp("test-model")
    config = {"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "model.safetensors").write_bytes(os.urandom(3 * 1024 * 1024))
    (folder / "README.md").write_text("---\nlicense: apache-2.0\n---\n# Test model\n")
    return folder


@pytest.fixture(scope="module")
def endpoint(model_folder, tmp_path_factory):
    with serve_local_hub({REPO_ID: model_folder}, tmp_path_factory.mktemp("hub")) as url:
        yield url


def assert_same_files(snapshot: Path, folder: Path) -> None:
    assert sorted(p.name for p in snapshot.iterdir()) == sorted(FILES)
    for name in FILES:
        assert (snapshot / name).read_bytes() == (folder / name).read_bytes(), name


def test_subprocess_download(endpoint, model_folder, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", DOWNLOAD_SCRIPT, REPO_ID],
        env=hub_env(endpoint, tmp_path / "hf_home"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.splitlines()[-1])
    assert Path(out["snapshot"]).is_relative_to(tmp_path / "hf_home" / "hub")
    assert_same_files(Path(out["snapshot"]), model_folder)
    assert Path(out["config"]).read_bytes() == (model_folder / "config.json").read_bytes()
    # Below huggingface_hub's 10 s read timeout: nothing waited on an unreachable upstream.
    assert out["seconds"] < 8, out["seconds"]
    assert out["missing"] == [401, "RepoNotFound"]


def test_in_process_download(endpoint, model_folder, tmp_path, monkeypatch):
    import huggingface_hub
    from huggingface_hub import hf_hub_download, snapshot_download
    from huggingface_hub.errors import RepositoryNotFoundError
    from transformers import AutoConfig

    use_local_hub(monkeypatch, endpoint, tmp_path / "hf_home")
    snapshot = Path(snapshot_download(REPO_ID))
    assert snapshot.is_relative_to(tmp_path / "hf_home" / "hub")
    assert_same_files(snapshot, model_folder)
    assert huggingface_hub.model_info(REPO_ID, revision="main").sha == snapshot.name
    assert Path(hf_hub_download(REPO_ID, "config.json")).parent == snapshot
    assert AutoConfig.from_pretrained(REPO_ID).hidden_size == 32
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("hfvid/no-such-model", "config.json")
