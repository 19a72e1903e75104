"""`Trainer` support for hfvid's per-optimiser-step hook.

    trainer = Trainer(model=model, args=args, train_dataset=..., callbacks=[AfterOptimizerStepCallback()])

Methods with momentum encoders, queues or schedules (MoCo, RINCE, BYOL) do that work in
``model.after_optimizer_step(step, total_steps)``, which `training/pretrain.py` calls after every optimiser step;
this callback makes `Trainer` call it too (after gradient accumulation, once per optimiser step).
"""

from __future__ import annotations

from transformers import TrainerCallback


class AfterOptimizerStepCallback(TrainerCallback):
    """Calls ``model.after_optimizer_step(state.global_step, state.max_steps)`` at the end of every optimiser step."""

    def on_step_end(self, args, state, control, model=None, **kwargs):
        hook = getattr(model, "after_optimizer_step", None)
        if hook is not None:
            hook(state.global_step, state.max_steps)
        return control
