"""The README's "Fine-tune with Trainer" example runs as written (on a small videofolder laid out as it says), and
the collator, passed as a callback, switches between training and evaluation clips at the right moments."""

import os
import re
import shutil
from pathlib import Path

from conftest import save_tiny_model
from transformers import TrainerControl, TrainerState, TrainingArguments

from hfvid.data.collators import VideoClassificationCollator
from hfvid.models.transrank import TransRankVideoProcessor

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> str:
    text = README.read_text()
    block = text[text.index("<!-- trainer-example: start -->") : text.index("<!-- trainer-example: end -->")]
    code = re.search(r"```python\n(.*?)```", block, flags=re.DOTALL).group(1)
    assert len(code.strip().splitlines()) <= 22, "the README promises a short example"
    return code


def test_the_readme_trainer_example_runs_as_written(synthmotion_dir, tmp_path, monkeypatch, capsys):
    for split in ("train", "test"):  # my_videos/{train,test}/<class>/*.mp4, as the README says
        for video in sorted(Path(synthmotion_dir, split).rglob("*.mp4")):
            target = tmp_path / "my_videos" / split / video.parent.name / video.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(video, target)
    save_tiny_model(tmp_path / "outputs" / "nextframe-r3d18-tiny-synthmotion", "nextframe-r3d18-tiny")
    monkeypatch.chdir(tmp_path)
    modes, clip = [], VideoClassificationCollator._clip
    monkeypatch.setattr(VideoClassificationCollator, "_clip", lambda self, *a: (modes.append(self.train), clip(self, *a))[1])
    namespace = {}
    exec(compile(readme_example(), "README.md", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "eval_accuracy" in printed and "eval_loss" in printed
    trainer, collator = namespace["trainer"], namespace["collator"]
    assert trainer.state.global_step == 6  # 3 epochs of 16 videos in batches of 8
    assert collator.train is False and not collator.unreadable
    # 3 epochs of the 16 training videos in training mode; the 8 test videos after each epoch and once more at the end
    # in evaluation mode.
    assert modes.count(True) == 48 and modes.count(False) == 32, modes
    assert os.path.isdir(tmp_path / "outputs" / "finetuned")


def test_the_collator_switches_modes_as_a_trainer_callback(tmp_path):
    collator = VideoClassificationCollator(TransRankVideoProcessor(num_frames=8))
    args, state, control = TrainingArguments(str(tmp_path), report_to=[]), TrainerState(max_steps=10), TrainerControl()
    assert collator.train
    collator.on_train_begin(args, state, control)
    assert collator.train
    state.global_step, control.should_evaluate = 5, True
    collator.on_step_end(args, state, control)
    assert not collator.train  # the evaluation that follows gets evaluation clips
    collator.on_evaluate(args, state, control)
    assert collator.train  # training goes on
    state.global_step = 10
    collator.on_step_end(args, state, TrainerControl())
    assert collator.train
    collator.on_train_end(args, state, control)
    assert not collator.train  # trainer.evaluate() after training
