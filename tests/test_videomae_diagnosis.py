"""benchmarks/bench_videomae_diagnosis.py: its loss targets are VideoMAE's own, its fixed guesses score what they
say, its frame-difference processor gives differences, and a tiny run end to end writes its tables."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import VideoMAEForPreTraining

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_videomae_diagnosis as diagnosis  # noqa: E402

import hfvid  # noqa: E402
from hfvid.data.masks import tube_mask  # noqa: E402
from hfvid.presets import processor_for_config  # noqa: E402


def test_the_targets_are_videomaes_own():
    """With a decoder head that outputs 0, `VideoMAEForPreTraining`'s loss is the mean square of its targets over the
    masked patches: the same patches of `normalised_patches`, in the same order."""
    config = hfvid.get_config("videomae-vit-tiny")
    torch.manual_seed(0)
    model = VideoMAEForPreTraining(config).eval()
    torch.nn.init.zeros_(model.decoder.head.weight)
    torch.nn.init.zeros_(model.decoder.head.bias)
    # Structured clips (patches differ in contrast), so that another patch order or normalisation gives another loss.
    clips = torch.randn(2, 8, 3, 32, 32) * torch.linspace(0.1, 3.0, 32)[None, None, None, :, None]
    mask = torch.from_numpy(np.stack([tube_mask(config.token_grid, 0.75, np.random.default_rng(i)) for i in range(2)]))
    loss = model(pixel_values=clips, bool_masked_pos=mask).loss
    targets = diagnosis.normalised_patches(clips, config).flatten(1, 3)
    assert torch.allclose(loss, (targets[mask] ** 2).mean(), rtol=1e-4)


def test_the_guesses_score_what_they_say():
    static = torch.randn(1, 1, 3, 32, 32).expand(1, 8, 3, 32, 32)  # no motion: every tubelet is the one before
    bounds = diagnosis.loss_bounds(diagnosis.normalised_patches(static, hfvid.get_config("videomae-vit-tiny")))
    assert bounds["next tubelet"] < 1e-6
    assert 0.9 < bounds["zero"] < 1.0  # unit variance per patch and channel (unbiased: (n - 1) / n)
    assert bounds["right neighbour"] > 1.5  # independent patches: about twice the variance


def test_the_frame_difference_processor_gives_differences():
    config = hfvid.get_config("videomae-vit-tiny")
    rgb = processor_for_config(config)
    differences = diagnosis.frame_difference_processor(rgb)
    frames = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    plain = rgb([frames], do_sample_frames=False, return_tensors="pt")["pixel_values"]
    given = differences([frames], do_sample_frames=False, return_tensors="pt")["pixel_values"]
    assert torch.allclose(given[:, :7], plain[:, 1:] - plain[:, :-1])
    assert torch.equal(given[:, 7], given[:, 6])  # the last difference repeated: 4 tubelets of 2
    views = differences.pretraining_views(frames, np.random.default_rng(0))
    assert views["pixel_values"].shape == (8, 3, 32, 32) and torch.equal(views["pixel_values"][7], views["pixel_values"][6])


def test_a_tiny_run_writes_its_tables(synthmotion_dir, tmp_path):
    output = tmp_path / "diagnosis.md"
    diagnosis.main(["--inputs", "rgb,frame_difference", "--seeds", "0", "--steps", "4", "--early_steps", "2",
                    "--batch_size", "2", "--probe_videos", "2", "--data_dir", synthmotion_dir, "--output", str(output)])  # fmt: skip
    text = output.read_text()
    assert text.startswith("# videomae-vit-tiny: what its loss") and "Written by `python benchmarks/bench_videomae_diagnosis.py --inputs" in text
    for row in ("| rgb | random init |", "| rgb | after 2 steps |", "| frame_difference | after 4 steps |"):
        assert row in text
    runs = json.loads(output.with_suffix(".json").read_text())
    assert [run["input"] for run in runs] == ["rgb", "frame_difference"]
    assert all(len(run["loss_quarters"]) == 4 for run in runs)


def test_a_fixed_batch_run_says_so(synthmotion_dir, tmp_path):
    output = tmp_path / "fixed.md"
    diagnosis.main(["--inputs", "rgb", "--seeds", "0", "--steps", "8", "--early_steps", "2", "--batch_size", "2",
                    "--probe_videos", "2", "--fixed_batch", "--learning_rate", "3e-3", "--warmup_steps", "0", "--data_dir", synthmotion_dir,
                    "--output", str(output)])  # fmt: skip
    assert "SynthMotion videos (one batch throughout)" in output.read_text()
    (run,) = json.loads(output.with_suffix(".json").read_text())
    assert run["loss_quarters"][-1] < run["loss_quarters"][0]  # one batch of two clips: fitted within 8 steps


def test_a_static_run_says_so_and_its_next_tubelet_guess_is_exact(synthmotion_dir, tmp_path):
    output = tmp_path / "static.md"
    diagnosis.main(["--inputs", "rgb", "--seeds", "0", "--steps", "2", "--early_steps", "1", "--batch_size", "2",
                    "--probe_videos", "2", "--static_clips", "--config_overrides", "masking=random,mask_ratio=0.5",
                    "--data_dir", synthmotion_dir, "--output", str(output)])  # fmt: skip
    assert "(each clip its first frame repeated)" in output.read_text()
    (run,) = json.loads(output.with_suffix(".json").read_text())
    assert run["bounds"]["next tubelet"] < 1e-6 < 0.9 < run["bounds"]["zero"]  # no motion: copying is exact


def test_vjepa_runs_with_its_target_encoder_stepped(synthmotion_dir, tmp_path):
    """V-JEPA through the same loop (its EMA step after each optimiser step): no pixel-loss guesses; the
    frame-difference processor gives differences under V-JEPA's own input name."""
    output = tmp_path / "vjepa.md"
    diagnosis.main(["--preset", "vjepa-vit-tiny", "--inputs", "frame_difference", "--seeds", "0", "--steps", "2",
                    "--early_steps", "1", "--batch_size", "2", "--probe_videos", "2", "--data_dir", synthmotion_dir,
                    "--weight_decay", "0.04", "--output", str(output)])  # fmt: skip
    text = output.read_text()
    assert text.startswith("# vjepa-vit-tiny: what its loss") and "| frame_difference | - | - | - |" in text
    assert "AdamW 0.001 (weight decay 0.04)" in text
    assert "| frame_difference | after 2 steps |" in text
    vjepa = processor_for_config(hfvid.get_config("vjepa-vit-tiny"))
    frames = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    plain = vjepa([frames], do_sample_frames=False, return_tensors="pt")["pixel_values_videos"]
    given = diagnosis.frame_difference_processor(vjepa)([frames], do_sample_frames=False, return_tensors="pt")["pixel_values_videos"]
    assert torch.allclose(given[:, :7], plain[:, 1:] - plain[:, :-1])


def test_a_preset_without_masks_is_a_clear_error():
    with pytest.raises(SystemExit, match="--preset takes a masked method's preset .*transrank-r3d18-tiny is not one"):
        diagnosis.main(["--preset", "transrank-r3d18-tiny"])
