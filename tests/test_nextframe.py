"""Next-frame prediction: config, the processor's clip and next frame from a real mp4, the loss and where the motion
may enter, saving and loading, learning on a fixed batch. (transformers' common tests: test_transformers_common.py;
pre-training through pretrain.py: test_contrastive_pretraining.py; with the ViT: test_vit.py.)"""

import numpy as np
import pytest
import torch
from conftest import assert_same_state, frame_index_of, training_losses
from transformers import AutoModel, AutoModelForPreTraining, AutoVideoProcessor

import hfvid
from hfvid.data.decoding import VideoReader
from hfvid.models.nextframe import FiLMFrameDecoder, NextFrameConfig, NextFrameForPreTraining, NextFrameVideoProcessor
from hfvid.presets import processor_for_config

TINY = "nextframe-r3d18-tiny"


def clips_and_next_frames(config, batch: int = 4, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random clips (batch, T, C, H, W) and a next frame for each that is its last frame moved by one pixel."""
    generator = torch.Generator().manual_seed(seed)
    size = config.image_size
    frames = torch.randn((batch, config.num_frames + 1, 3, size, size), generator=generator).cumsum(1) / 3
    return {"pixel_values_videos": frames[:, :-1], "next_frame_values": frames[:, -2].roll(1, dims=-1)}


def test_presets_and_config_validation():
    assert {"nextframe-r3d18", "nextframe-r2plus1d18", TINY, "nextframe-vit-tiny"} <= set(hfvid.list_configs())
    tiny = hfvid.get_config(TINY)
    assert (tiny.num_frames, tiny.image_size, tiny.backbone["input"]) == (8, 32, "frame_difference")
    assert (tiny.decoder_width, tiny.decoder_layers) == (32, 3)
    with pytest.raises(ValueError, match="decoder_width and decoder_layers must be >= 1"):
        NextFrameConfig(decoder_layers=0)


def test_processor_gives_a_clip_and_the_frame_after_it(numbered_mp4):
    processor = processor_for_config(hfvid.get_config(TINY, num_frames=6))
    mean, std = torch.tensor(processor.image_mean)[:, None, None], torch.tensor(processor.image_std)[:, None, None]
    rng, starts = np.random.default_rng(0), set()
    for _ in range(8):
        with VideoReader(numbered_mp4) as reader:
            views = processor.pretraining_views(reader, rng)
        assert views["pixel_values_videos"].shape == (6, 3, 32, 32) and views["next_frame_values"].shape == (3, 32, 32)
        frames = torch.cat([views["pixel_values_videos"], views["next_frame_values"][None]]) * std + mean
        indices = frame_index_of(255 * frames)
        np.testing.assert_array_equal(indices, indices[0] + np.arange(7))  # six consecutive frames, then the next
        starts.add(int(indices[0]))
    assert len(starts) > 1 and max(starts) <= 60 - 7  # random starts, all inside the 60-frame video


def test_loss_is_the_squared_error_of_the_predicted_difference():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = NextFrameForPreTraining(config).train()
    inputs = clips_and_next_frames(config)
    output = model(**inputs)
    last, following = inputs["pixel_values_videos"][:, -1], inputs["next_frame_values"]
    assert output.predictions.shape == last.shape and output.pooler_output.shape == (4, 64)
    predicted_difference = output.predictions - last
    expected = (predicted_difference - (following - last)).pow(2).mean()
    assert output.loss.item() == pytest.approx(expected.item(), rel=1e-5)
    torch.testing.assert_close(output.errors["no_change"], (following - last).pow(2).flatten(1).mean(1))
    torch.testing.assert_close(output.errors["prediction"].mean(), output.loss.detach())
    output.loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    with pytest.raises(ValueError, match="next_frame_values must be one frame per clip"):
        model(inputs["pixel_values_videos"], next_frame_values=inputs["pixel_values_videos"][:, -2:])


def test_the_motion_reaches_the_decoder_only_through_the_code():
    """Two clips that end in the same frame and differ before it get different predictions only because their codes
    differ: with one code for both, the decoder's predictions are equal."""
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = NextFrameForPreTraining(config).eval()
    inputs = clips_and_next_frames(config, batch=2)
    clips = inputs["pixel_values_videos"].clone()
    clips[1, -1] = clips[0, -1]  # the same last frame, different earlier frames
    with torch.no_grad():
        output = model(clips, next_frame_values=inputs["next_frame_values"])
        assert not torch.allclose(output.predictions[0], output.predictions[1])
        same_code = model.decoder(clips[:, -1], output.pooler_output[:1].expand(2, -1))
    torch.testing.assert_close(same_code[0], same_code[1])
    decoder = FiLMFrameDecoder(code_dim=5, width=4, layers=2)
    assert decoder(torch.randn(3, 3, 8, 8), torch.randn(3, 5)).shape == (3, 3, 8, 8)


def test_save_and_auto_classes_round_trip(tmp_path):
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = AutoModelForPreTraining.from_config(config)
    model(**clips_and_next_frames(config))  # BatchNorm statistics hold something worth keeping
    model.save_pretrained(tmp_path)
    processor_for_config(config).save_pretrained(tmp_path)
    reloaded = AutoModelForPreTraining.from_pretrained(tmp_path)
    assert type(reloaded) is NextFrameForPreTraining
    assert_same_state(reloaded.state_dict(), model.state_dict())
    backbone, info = AutoModel.from_pretrained(tmp_path, output_loading_info=True)
    assert type(backbone).__name__ == "NextFrameModel" and not info["missing_keys"] and not info["unexpected_keys"]
    assert isinstance(AutoVideoProcessor.from_pretrained(tmp_path), NextFrameVideoProcessor)


def test_a_few_steps_on_a_fixed_batch_lower_the_loss():
    config = hfvid.get_config(TINY)
    torch.manual_seed(0)
    model = NextFrameForPreTraining(config)
    losses = training_losses(model, 8, **clips_and_next_frames(config))
    assert losses[-1] < 0.7 * losses[0], losses
