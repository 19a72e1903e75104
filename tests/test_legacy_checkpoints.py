"""Models saved by earlier hfvid versions keep loading: tests/legacy/<method>/ was written by the code of commit
9a73349 (tests/legacy/make_legacy_models.py) before the backbone registry and named views; today's code must load
every weight and buffer of it and reproduce its outputs."""

from pathlib import Path

import pytest
import torch
from transformers import AutoModel, AutoModelForPreTraining, AutoModelForVideoClassification, AutoVideoProcessor

import hfvid  # noqa: F401  (registers the Auto classes)

LEGACY = Path(__file__).parent / "legacy"
METHODS = sorted(p.name for p in LEGACY.iterdir() if (p / "config.json").is_file())


def test_every_method_has_a_legacy_folder():
    assert METHODS == ["byol", "moco", "rince", "simclr", "simsiam", "transrank"]


@pytest.mark.parametrize("method", METHODS)
def test_legacy_pretraining_model_loads_every_weight_and_reproduces_its_outputs(method):
    folder = LEGACY / method
    reference = torch.load(folder / "reference.pt")
    model, info = AutoModelForPreTraining.from_pretrained(folder, output_loading_info=True)
    assert not any(info.values()), info
    with torch.no_grad():
        loss = model(pixel_values_videos=reference["inputs"]).loss
        pooled = AutoModel.from_pretrained(folder)(reference["inputs"][:, 0]).pooler_output
    torch.testing.assert_close(loss, reference["loss"], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(pooled, reference["pooler_output"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("method", METHODS)
def test_legacy_folder_loads_as_classifier_and_processor(method):
    folder = LEGACY / method
    classifier, info = AutoModelForVideoClassification.from_pretrained(folder, num_labels=3, output_loading_info=True)
    assert sorted(info["missing_keys"]) == ["classifier.bias", "classifier.weight"]
    processor = AutoVideoProcessor.from_pretrained(folder)
    video = torch.randint(0, 256, (12, 3, 20, 24), dtype=torch.uint8)
    inputs = processor([video], return_tensors="pt")["pixel_values_videos"]
    assert inputs.shape == (1, 4, 3, 16, 16)
    assert classifier(inputs).logits.shape == (1, 3)
