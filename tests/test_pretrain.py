"""training/pretrain.py: single process, two processes, kill-and-resume, unreadable videos."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from transformers import AutoModel

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "training"))
import pretrain  # noqa: E402
from conftest import losses, run_in_process  # noqa: E402

TINY_RUN = ["--model", "transrank-r3d18-tiny", "--batch_size", "2", "--logging_steps", "1", "--warmup_steps", "1", "--no_evaluate"]


def test_pretraining_run_writes_a_loadable_model(synthmotion_dir, tmp_path):
    out = tmp_path / "run"
    summary = run_in_process([*TINY_RUN, "--dataset", synthmotion_dir, "--max_steps", "4", "--checkpointing_steps", "2", "--output_dir", str(out)])
    assert summary["steps"] == 4 and summary["num_skipped_videos"] == 0
    assert sorted(losses(out)) == [1, 2, 3, 4]
    assert all(torch.isfinite(torch.tensor(list(losses(out).values()))))
    assert [p.name for p in pretrain.checkpoints(out)] == ["checkpoint-2", "checkpoint-4"]
    assert json.loads((out / "training_info.json").read_text())["steps"] == 4
    assert list((out / "pretrain").glob("events.out.tfevents.*")), "no TensorBoard log"
    model = AutoModel.from_pretrained(out)
    assert model.config.model_type == "transrank"
    assert (out / "video_preprocessor_config.json").is_file()


def test_processes_get_disjoint_videos(synthmotion_dir):
    args = pretrain.parse_args(["--dataset", synthmotion_dir])
    shares = [[example["video"]["path"] for example in pretrain.video_stream(args, rank, 2)] for rank in (0, 1)]
    assert set(shares[0]).isdisjoint(shares[1])
    assert len(shares[0]) + len(shares[1]) == 16


# V-JEPA: its EMA target encoder, the flag that it has started and the mask draws must resume exactly too.
@pytest.mark.parametrize("model", ["transrank-r3d18-tiny", "vjepa-vit-tiny"])
def test_resume_after_kill_reproduces_the_uninterrupted_run(synthmotion_dir, tmp_path, model):
    common = [*TINY_RUN, "--model", model, "--dataset", synthmotion_dir, "--max_steps", "12", "--checkpointing_steps", "2"]
    reference = tmp_path / "reference"
    run_in_process([*common, "--output_dir", str(reference)])

    interrupted = tmp_path / "interrupted"
    process = subprocess.Popen(
        [sys.executable, str(REPO / "training" / "pretrain.py"), *common, "--output_dir", str(interrupted)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},  # the in-process runs use one thread (conftest): same numerics
    )
    deadline = time.time() + 240
    while not (interrupted / "checkpoints" / "checkpoint-2").exists():
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.time() < deadline, "no checkpoint within 240 s"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    resumed_from = pretrain.checkpoints(interrupted)[-1]
    resumed_step = int(resumed_from.name.split("-")[1])
    assert resumed_step < 12, "the run finished before it could be killed"
    # A kill during a later save leaves a partial folder behind; resuming must ignore it.
    partial = interrupted / "checkpoints" / f"partial-checkpoint-{resumed_step + 2}"
    shutil.copytree(resumed_from, partial)
    (partial / "model.safetensors").unlink()

    run_in_process([*common, "--output_dir", str(interrupted), "--resume"])
    expected, got = losses(reference), losses(interrupted)
    assert sorted(got) == list(range(1, 13))
    for step in range(resumed_step + 1, 13):
        assert got[step] == pytest.approx(expected[step], rel=1e-6, abs=1e-7), f"step {step}"


def test_unreadable_videos_are_skipped_and_counted(synthmotion_dir, tmp_path):
    folder = tmp_path / "videos"
    for index, video in enumerate(sorted(Path(synthmotion_dir, "train").rglob("*.mp4"))[:6]):
        target = folder / video.parent.name / video.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(video, target)
    good = next(folder.rglob("*.mp4"))
    (good.parent / "empty.mp4").write_bytes(b"")
    (good.parent / "truncated.mp4").write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    (good.parent / "text.mp4").write_text("not a video")
    out = tmp_path / "run"
    summary = run_in_process([*TINY_RUN, "--dataset", str(folder), "--max_steps", "6", "--output_dir", str(out)])
    assert summary["steps"] == 6
    # 9 videos, 2 per step: 6 steps cover the folder more than once; each unreadable file counts once, listed
    # with its reason beside the model.
    listed = [json.loads(line) for line in (out / "unreadable_videos.jsonl").read_text().splitlines()]
    assert summary["num_skipped_videos"] == len(listed) == len({row["video"] for row in listed})
    assert {"empty.mp4", "text.mp4"} <= {Path(row["video"]).name for row in listed} <= {"empty.mp4", "text.mp4", "truncated.mp4"}
    assert all(row["reason"] for row in listed)


@pytest.mark.slow
def test_two_processes_with_accelerate_launch(synthmotion_dir, tmp_path):
    """`--multi_gpu` makes accelerate start torchrun; on this GPU-less machine the processes use gloo on CPU
    (accelerate's `--cpu` flag would start a single process unless MPI is installed)."""
    out = tmp_path / "ddp"
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no",
        str(REPO / "training" / "pretrain.py"), *TINY_RUN, "--dataset", synthmotion_dir, "--max_steps", "3",
        "--checkpointing_steps", "3", "--output_dir", str(out),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    info = json.loads((out / "training_info.json").read_text())
    assert info["num_processes"] == 2 and info["steps"] == 3
    assert sorted(p.name for p in out.glob("*.safetensors")) == ["model.safetensors"]
    assert sorted(p.name for p in (out / "checkpoints" / "checkpoint-3").glob("run_state_*.json")) == ["run_state_0.json", "run_state_1.json"]
    AutoModel.from_pretrained(out)


def test_main_job_end_to_end_on_a_reduced_size(synthmotion_dir, tmp_path, capsys):
    """The main job's path (pre-train, evaluate against random init, card, plots) on the tiny SynthMotion."""
    from huggingface_hub import ModelCard

    out = tmp_path / "main-job"
    argv = ["--dataset", synthmotion_dir, "--max_steps", "3", "--batch_size", "2", "--output_dir", str(out)]
    run_in_process(argv)
    printed = capsys.readouterr().out.strip()
    assert "| Metric (%) | pre-trained | random init |" in printed
    assert printed.splitlines()[-1].startswith("| Linear probe top-1 |")
    for name in ("model.safetensors", "video_preprocessor_config.json", "training_loss.png", "recall_at_k_comparison.png", "confusion_matrix.png", "results.json"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    card = ModelCard.load(out / "README.md")
    assert card.data.library_name == "hfvid" and "self-supervised" in card.data.tags
    names = {result.metric_name for result in card.data.eval_results}
    assert {"Retrieval R@1", "Linear probe top-1"} <= names
    assert "Retrieval R@5" not in names, "2 training videos per class of 16: R@5 is over 50% by chance"
    assert "for 3 optimiser steps" in card.text and "![training loss](training_loss.png)" in card.text
    results = json.loads((out / "results.json").read_text())
    assert 0.0 <= results["metrics"]["R@1"] <= 1.0


def test_config_overrides_are_parsed_as_yaml_values():
    parsed = pretrain.parse_config_overrides("queue_size=16, rank_similarities=[1.0, 0.5],variant=out-in")
    assert parsed == {"queue_size": 16, "rank_similarities": [1.0, 0.5], "variant": "out-in"}
    assert pretrain.parse_config_overrides(None) == {}
    with pytest.raises(ValueError, match="key=value"):
        pretrain.parse_config_overrides("queue_size")
    nested = pretrain.parse_config_overrides("tasks=[{name: temporal, transformations: [1x, 2x]}],margin=0.5")
    assert nested == {"tasks": [{"name": "temporal", "transformations": ["1x", "2x"]}], "margin": 0.5}


def test_processor_overrides_reach_the_pretraining_processor(synthmotion_dir, tmp_path):
    out = tmp_path / "run"
    argv = ["--dataset", synthmotion_dir, "--max_steps", "1", "--batch_size", "2", "--no_evaluate", "--output_dir", str(out),
            "--processor_overrides", "crop_scale=[0.6, 1.0],flip_p=0.25,crop_size={height: 24, width: 24}"]  # fmt: skip
    run_in_process(argv)
    saved = json.loads((out / "video_preprocessor_config.json").read_text())
    assert saved["crop_scale"] == [0.6, 1.0] and saved["flip_p"] == 0.25
    assert saved["crop_size"] == {"height": 24, "width": 24}  # a size dict is stored as the processor stores sizes
    with pytest.raises(ValueError, match="has no field 'crop_size_typo'"):
        run_in_process([*argv[:-1], "crop_size_typo=3"])


def test_batches_carry_a_stable_id_per_video(synthmotion_dir):
    from hfvid.data.pretraining import collate_pretraining, video_id

    path = next(Path(synthmotion_dir).glob("train/*/*.mp4"))
    assert video_id({"path": str(path), "bytes": None}) == video_id(str(path)) == video_id(path)
    assert video_id({"path": None, "bytes": b"abc"}) == video_id(b"abc") != video_id(b"abd")
    assert 0 <= video_id(b"abc") < 2**63
    batch = collate_pretraining(
        [
            {"views": {"pixel_values_videos": torch.zeros(2, 1), "other": torch.ones(3)}, "video_id": 5, "skipped": []},
            {"views": None, "video_id": None, "skipped": [{"video": "a.mp4", "reason": "x"}, {"video": "b.mp4", "reason": "y"}]},
        ]
    )
    assert batch["video_ids"].tolist() == [5] and len(batch["skipped"]) == 2 and batch["num_videos"] == 1
    assert batch["num_samples"] == 2
    assert batch["pixel_values_videos"].shape == (1, 2, 1) and batch["other"].shape == (1, 3)
    empty = collate_pretraining([{"views": None, "video_id": None, "skipped": [{"video": "c.mp4", "reason": "z"}], "worker": 1, "position": 6}])
    assert empty == {"num_videos": 0, "num_samples": 1, "skipped": [{"video": "c.mp4", "reason": "z"}], "progress": {1: 7}}


def copy_videos(synthmotion_dir, target: Path, count: int, flat: bool) -> list[Path]:
    videos = sorted(Path(synthmotion_dir, "train").rglob("*.mp4"))[:count]
    for video in videos:
        destination = target / video.name if flat else target / video.parent.name / video.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(video, destination)
    return videos


def test_unlabelled_folder_pretrains_and_writes_model_and_card(synthmotion_dir, tmp_path, capsys):
    copy_videos(synthmotion_dir, tmp_path / "mine", 5, flat=True)
    out = tmp_path / "run"
    # MoCo, batch 2 of 5 videos: the last, one-video batch of each pass is dropped (BatchNorm needs two).
    argv = ["--model", "moco-r3d18-tiny", "--batch_size", "2", "--warmup_steps", "1", "--dataset", str(tmp_path / "mine"),
            "--max_steps", "5", "--output_dir", str(out)]  # fmt: skip
    summary = run_in_process(argv)
    assert summary["steps"] == 5
    assert "has no labels, so the frozen-feature evaluation" in capsys.readouterr().out
    assert (out / "model.safetensors").is_file() and "MoCo pre-trained with hfvid" in (out / "README.md").read_text()


def test_labelled_folder_without_test_split_is_evaluated_on_a_held_out_part(synthmotion_dir, tmp_path):
    copy_videos(synthmotion_dir, tmp_path / "classes", 16, flat=False)
    out = tmp_path / "run"
    argv = [*TINY_RUN[:-1], "--dataset", str(tmp_path / "classes"), "--max_steps", "2", "--output_dir", str(out),
            "--eval_protocols", "knn", "--eval_holdout", "0.5"]  # fmt: skip
    run_in_process(argv)
    card = (out / "README.md").read_text()
    assert "Evaluated on a deterministic 50% of the 'train' split held out" in card and "kNN" in card
    import pretrain

    no_holdout = pretrain.parse_args([*argv, "--eval_holdout", "0"])  # off: the card must not claim a held-out part
    assert pretrain.evaluation_data(no_holdout) == (True, f"Evaluated on the 'test' split of {tmp_path / 'classes'}.")


def test_bad_options_are_clear_errors(synthmotion_dir, tmp_path, capsys):
    import pretrain

    with pytest.raises(ValueError, match="has no field 'queue_sz'; valid fields: .*queue_size"):
        run_in_process([*TINY_RUN[:2], "--model", "moco-r3d18-tiny", "--config_overrides", "queue_sz=64", "--dataset", synthmotion_dir])
    with pytest.raises(FileNotFoundError, match="no saved model folder at .*typo"):
        run_in_process(["--model", str(tmp_path / "typo"), "--dataset", synthmotion_dir])
    assert pretrain.parse_args(["--max-steps", "7", "--batch-size", "3"]).max_steps == 7  # dashes are aliases
    with pytest.raises(SystemExit):
        pretrain.parse_args(["--help"])
    assert "(default: 2000)" in capsys.readouterr().out


def write_tar_shards(videos: list[Path], shards: Path, work: Path, count: int = 2) -> Path:
    """``count`` WebDataset shards ``train-00i.tar`` of ``videos`` (each sample: ``<key>.mp4`` and ``<key>.cls``)."""
    import tarfile

    shards.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        with tarfile.open(shards / f"train-{index:03d}.tar", "w") as tar:
            for number, video in enumerate(videos[index::count]):
                key = f"s{index}_{number}"
                tar.add(video, arcname=f"{key}.mp4")
                label = work / f"{key}.cls"
                label.write_text(str(number % 2))
                tar.add(label, arcname=f"{key}.cls")
    return shards


def test_webdataset_tar_shards_stream_into_pretraining(synthmotion_dir, tmp_path):
    from hfvid.data.sources import load_video_dataset

    shards = write_tar_shards(sorted(Path(synthmotion_dir, "train").rglob("*.mp4"))[:6], tmp_path / "shards", tmp_path)
    streamed = load_video_dataset(str(shards), streaming=True)
    rows = list(streamed)
    assert streamed.num_shards == 2 and len(rows) == 6 and {row["label"] for row in rows} == {0, 1}
    assert len(list(load_video_dataset(str(shards / "train-001.tar"), streaming=True))) == 3
    out = tmp_path / "run"
    summary = run_in_process([*TINY_RUN, "--dataset", str(shards), "--max_steps", "3", "--output_dir", str(out)])
    assert summary["steps"] == 3 and summary["num_skipped_videos"] == 0


@pytest.mark.slow
def test_tar_shards_on_the_hub_stream_into_pretraining(synthmotion_dir, tmp_path):
    """``hf://datasets/<id>@<revision>/train-*.tar`` from a real (olah) Hub server, in a subprocess as a user runs
    it. The revision is spelled out because olah 0.5.4 answers a repository lookup without one with 401
    (tests/hub_server.py); on the Hub ``hf://datasets/<id>/train-*.tar`` does the same."""
    from hub_server import hub_env, serve_local_hub

    shards = write_tar_shards(sorted(Path(synthmotion_dir, "train").rglob("*.mp4"))[:6], tmp_path / "repo", tmp_path)
    out = tmp_path / "run"
    with serve_local_hub({"datasets/hfvid-tests/tiny-shards": shards}, tmp_path / "hub") as endpoint:
        result = subprocess.run(
            [sys.executable, str(REPO / "training" / "pretrain.py"), *TINY_RUN, "--max_steps", "3",
             "--dataset", "hf://datasets/hfvid-tests/tiny-shards@main/train-*.tar", "--output_dir", str(out)],  # fmt: skip
            env=hub_env(endpoint, tmp_path / "hf_home"), capture_output=True, text=True, timeout=600,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((out / "training_info.json").read_text())
    assert summary["steps"] == 3 and summary["num_skipped_videos"] == 0 and (out / "model.safetensors").is_file()
