"""The video-feature-extraction pipeline: registered on `import hfvid`, for hfvid's and transformers' own video
models, on paths, frames and `datasets` values, batched as unbatched, per time step; and from a saved folder's own
code without hfvid."""

import json
import subprocess
import sys

import pytest
import torch
from transformers import VideoMAEModel, pipeline

import hfvid
from hfvid.data.synthetic import load_synthmotion
from hfvid.models.transrank import TransRankModel, TransRankVideoProcessor
from hfvid.models.videomae import VideoMAEPreTrainingVideoProcessor


@pytest.fixture(scope="module")
def transrank_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("transrank")
    config = hfvid.get_config("transrank-r3d18-tiny")
    torch.manual_seed(0)
    model = TransRankModel(config).eval()
    model.save_pretrained(folder)
    TransRankVideoProcessor.from_model_config(config).save_pretrained(folder)
    return folder, model


def test_features_of_paths_frames_and_datasets_values_match_the_model(transrank_folder, synthmotion_dir):
    folder, model = transrank_folder
    extractor = pipeline("video-feature-extraction", model=str(folder))
    test = load_synthmotion(synthmotion_dir, split="test", decode=False)
    paths = [row["video"]["path"] for row in test][:3]
    features = extractor(paths[0], return_tensors=True)
    processor = TransRankVideoProcessor.from_pretrained(folder)
    with torch.no_grad():
        expected = model(**processor(paths[0], return_tensors="pt")).pooler_output[0]
    torch.testing.assert_close(features, expected)
    assert len(extractor(paths[0])) == expected.shape[0]  # a list of floats by default
    batched = extractor(paths, batch_size=2, return_tensors=True)
    for path, one in zip(paths, batched):
        torch.testing.assert_close(one, extractor(path, return_tensors=True))
    decoded = load_synthmotion(synthmotion_dir, split="test")[0]["video"]  # a torchcodec VideoDecoder
    torch.testing.assert_close(extractor(decoded, return_tensors=True), features)
    per_step = extractor(paths[0], pooling="time", return_tensors=True)
    assert per_step.ndim == 2 and per_step.shape[1] == expected.shape[0]
    with pytest.raises(ValueError, match="pooling must be one of"):
        extractor(paths[0], pooling="frame")


def test_transformers_video_models_pool_their_tokens(tmp_path):
    config = hfvid.get_config("videomae-vit-tiny")
    torch.manual_seed(0)
    model = VideoMAEModel(config).eval()
    model.save_pretrained(tmp_path)
    VideoMAEPreTrainingVideoProcessor.from_model_config(config).save_pretrained(tmp_path)
    extractor = pipeline("video-feature-extraction", model=str(tmp_path))
    frames = torch.randint(0, 256, (8, 3, 40, 48), dtype=torch.uint8)
    with torch.no_grad():
        tokens = model(**extractor.video_processor(frames, return_tensors="pt")).last_hidden_state[0]
    torch.testing.assert_close(extractor(frames, return_tensors=True), tokens.mean(dim=0))
    per_step = extractor(frames, pooling="time", return_tensors=True)  # 4 time steps (8 frames, tubelets of 2)
    torch.testing.assert_close(per_step, tokens.view(4, 16, -1).mean(dim=1))


WITHOUT_HFVID = """
import json, sys
sys.modules["hfvid"] = None  # any import of hfvid fails
import torch
from transformers import pipeline
extractor = pipeline(model=sys.argv[1], trust_remote_code=True)
frames = torch.load(sys.argv[2])
print(json.dumps({"class": type(extractor).__name__, "features": extractor(frames)}))
"""


def test_a_saved_folder_extracts_features_without_hfvid(transrank_folder, tmp_path):
    folder, _ = transrank_folder
    config = json.loads((folder / "config.json").read_text())
    assert config["custom_pipelines"]["hfvid-video-feature-extraction"]["impl"] == "video_feature_extraction.VideoFeatureExtractionPipeline"
    frames = torch.randint(0, 256, (20, 3, 40, 48), dtype=torch.uint8)
    torch.save(frames, tmp_path / "frames.pt")
    result = subprocess.run([sys.executable, "-c", WITHOUT_HFVID, str(folder), str(tmp_path / "frames.pt")],
                            capture_output=True, text=True, check=True)  # fmt: skip
    remote = json.loads(result.stdout.strip().splitlines()[-1])
    assert remote["class"] == "VideoFeatureExtractionPipeline"
    local = pipeline("video-feature-extraction", model=str(folder))(frames)
    assert remote["features"] == pytest.approx(local, abs=1e-5)
