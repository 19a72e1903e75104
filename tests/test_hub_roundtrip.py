"""A saved TransRank model goes through a real Hub server (olah on 127.0.0.1) and loads by its Hub id."""

import subprocess
import sys

import torch
from conftest import save_tiny_transrank
from hub_server import hub_env, serve_local_hub

from hfvid.data.decoding import VideoReader

REPO_ID = "hfvid/transrank-r3d18"

# A fresh interpreter reads HF_ENDPOINT / HF_HOME at import, exactly as a user's would.
LOAD_BY_HUB_ID = """
import sys, torch
import hfvid
from transformers import AutoModel, AutoVideoProcessor
model = AutoModel.from_pretrained(sys.argv[1]).eval()
processor = AutoVideoProcessor.from_pretrained(sys.argv[1])
video = torch.load(sys.argv[2])
with torch.no_grad():
    torch.save(model(**processor(video, return_tensors="pt")).pooler_output, sys.argv[3])
"""


def test_model_and_processor_load_by_hub_id_from_a_real_server(tmp_path, numbered_mp4):
    folder = tmp_path / "saved"
    model, processor = save_tiny_transrank(folder)
    with VideoReader(numbered_mp4) as reader:
        video = reader.get_frames(range(reader.metadata.num_frames))
    torch.save(video, tmp_path / "video.pt")
    with torch.no_grad():
        expected = model.transrank(**processor(video, return_tensors="pt")).pooler_output

    hf_home = tmp_path / "hf_home"
    with serve_local_hub({REPO_ID: folder}, tmp_path / "hub") as endpoint:
        result = subprocess.run(
            [sys.executable, "-c", LOAD_BY_HUB_ID, REPO_ID, str(tmp_path / "video.pt"), str(tmp_path / "features.pt")],
            env=hub_env(endpoint, hf_home), capture_output=True, text=True, timeout=300,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert torch.equal(torch.load(tmp_path / "features.pt"), expected)
    downloaded = {p.name for p in (hf_home / "hub").rglob("*") if p.is_file()}
    assert {"config.json", "model.safetensors", "video_preprocessor_config.json"} <= downloaded
