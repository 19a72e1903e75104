"""transformers' own common tests (ModelTesterMixin, ConfigTester, VideoProcessingTestMixin of the pinned release)
against every hfvid method: its AutoModel, AutoModelForPreTraining and AutoModelForVideoClassification classes, its
config and its video processor. Set up like transformers' tests/models/videomae/ tests.

The mixins come from the transformers sdist, cached by `bash scripts/setup.sh` (see tests/transformers_common/).
Run one method at a time, e.g. `python -m pytest tests/test_transformers_common.py -q -k moco`.
"""

from __future__ import annotations

import copy
import unittest
from unittest import mock

import pytest
import transformers_common

if transformers_common.missing_reason():
    pytest.skip(transformers_common.missing_reason(), allow_module_level=True)
pytest.importorskip("parameterized", reason="transformers' test mixins need it: run `bash scripts/setup.sh`")

import torch  # noqa: E402
from transformers.image_utils import IMAGENET_STANDARD_MEAN, IMAGENET_STANDARD_STD  # noqa: E402
from transformers.models.auto import modeling_auto  # noqa: E402
from transformers.models.vit.modeling_vit import ViTPatchEmbeddings  # noqa: E402
from transformers.models.vjepa2.modeling_vjepa2 import VJEPA2PatchEmbeddings3D  # noqa: E402
from transformers.testing_utils import torch_device  # noqa: E402

from hfvid.backbones.vit import vit_config  # noqa: E402
from hfvid.models import (  # noqa: E402
    bfp,
    brave,
    byol,
    hdc,
    lsfd,
    moco,
    mvformer,
    nextframe,
    rince,
    sideways,
    simclr,
    simsiam,
    transrank,
    videomae,
    vjepa,
)

common = transformers_common.load()
ModelTesterMixin = common.test_modeling_common.ModelTesterMixin
floats_tensor = common.test_modeling_common.floats_tensor
ids_tensor = common.test_modeling_common.ids_tensor
ConfigTester = common.test_configuration_common.ConfigTester
VideoProcessingTestMixin = common.test_video_processing_common.VideoProcessingTestMixin
prepare_video_inputs = common.test_video_processing_common.prepare_video_inputs

# Common tests that cannot apply to hfvid's models (video CNNs trained self-supervised): test name -> why. Every other
# failure of the common tests is an hfvid bug.
NOT_APPLICABLE: dict[str, str] = {
    "test_model_get_set_embeddings": "a video CNN has no input (token/patch) embeddings to get or set",
}

# Common tests that cannot apply to some of hfvid's model classes only: test name -> {class name: why}. The test runs
# on the method's other classes.
NOT_APPLICABLE_TO_CLASSES: dict[str, dict[str, str]] = {
    "test_batching_equivalence": {
        "SimCLRForPreTraining": "the other videos of the batch are each clip's negatives (NT-Xent), so its "
        "`accuracy` and loss depend on the batch",
        "RINCEForPreTraining": "the other videos of the batch are each clip's negatives, so its `accuracy` and loss "
        "depend on the batch",
        "HDCForPreTraining": "the other videos' clips are each clip's negatives, so its `accuracy` and loss depend on "
        "the batch",
        "LSFDForPreTraining": "the other videos' long views are each short view's negatives, so its `accuracy` and "
        "loss depend on the batch",
        "BFPForPreTraining": "the other videos' targets are each prediction's negatives, so its `accuracy` and loss "
        "depend on the batch",
    },
}

# A backbone smaller than r3d_tiny, given complete (as the config stores it): stem and two stages.
TINY_BACKBONE = {"arch": "r3d", "in_channels": 3, "layers": [1, 1], "widths": [4, 8], "stem_width": 4, "input": "rgb"}
PROJECTION = {"projection_dim": 8, "projection_hidden_dim": 16}
# Per method: config kwargs on top of the common ones (given in the form the config stores them).
METHOD_CONFIGS = {
    "transrank": {
        "backbone": {**TINY_BACKBONE, "input": "frame_difference"},  # as the tiny presets: the stem sees T - 1 differences
        "tasks": [
            {"name": "temporal", "transformations": ["1x", "2x", "reverse"], "weight": 1.0},
            {"name": "spatial", "transformations": ["rot0", "rot180"], "weight": 0.5},
        ],
        "head_hidden_dim": 8,
        "speed_jitter": None,
    },
    "moco": {**PROJECTION, "queue_size": 16},
    "rince": {**PROJECTION, "queue_size": 16},
    "simclr": {**PROJECTION},
    "byol": {**PROJECTION, "predictor_hidden_dim": 16},
    "simsiam": {**PROJECTION, "predictor_hidden_dim": 4},
    "bfp": {**PROJECTION},
    "lsfd": {**PROJECTION, "num_short_views": 2},
    "hdc": {**PROJECTION},
    # A broad view of 8 frames at the narrow view's 16 px.
    "brave": {**PROJECTION, "predictor_hidden_dim": 16, "broad_num_frames": 8, "broad_frame_step": 1, "broad_image_size": 16},
    "nextframe": {"decoder_width": 4, "decoder_layers": 2},
}


def clips_per_sample(config) -> int:
    """The clips dimension of a pre-training input: one clip per transformation (TransRank) or per view."""
    return len(config.transformations) if hasattr(config, "transformations") else config.views_per_video


class HfvidModelTester:
    """Tiny config and random inputs of one hfvid method, as transformers' ModelTester classes do."""

    def __init__(
        self, parent, method, batch_size=2, num_frames=4, image_size=16, num_channels=3, num_labels=3, is_training=True
    ):
        self.parent = parent
        self.method = method
        self.config_class = method.AUTO_CLASSES["AutoConfig"]
        self.batch_size = batch_size
        self.num_frames = num_frames
        self.image_size = image_size
        self.num_channels = num_channels
        self.num_labels = num_labels
        self.is_training = is_training
        self.hidden_size = TINY_BACKBONE["widths"][-1]

    def config_kwargs(self) -> dict:
        return {
            "backbone": copy.deepcopy(TINY_BACKBONE),
            "num_frames": self.num_frames,
            "image_size": self.image_size,
            **copy.deepcopy(METHOD_CONFIGS[self.config_class.model_type]),
        }

    def get_config(self):
        return self.config_class(**self.config_kwargs(), num_labels=self.num_labels)

    def prepare_config_and_inputs(self):
        pixel_values_videos = floats_tensor(
            [self.batch_size, self.num_frames, self.num_channels, self.image_size, self.image_size]
        )
        labels = ids_tensor([self.batch_size], self.num_labels)
        return self.get_config(), pixel_values_videos, labels

    def prepare_config_and_inputs_for_common(self):
        config, pixel_values_videos, _ = self.prepare_config_and_inputs()
        return config, {"pixel_values_videos": pixel_values_videos}


def broad_input(pixel_values_videos: torch.Tensor, config) -> torch.Tensor:
    """BraVe's broad view made of the narrow one (batch, frames, C, H, W): the clip repeated up to the broad view's
    length and mirrored, so that each sample's broad view depends on that sample only."""
    repeats = -(-config.broad_num_frames // pixel_values_videos.shape[1])
    return pixel_values_videos.repeat(1, repeats, 1, 1, 1)[:, : config.broad_num_frames].flip(-1)


def pretraining_input(pixel_values_videos: torch.Tensor, num_clips: int) -> torch.Tensor:
    """(batch, frames, C, H, W) -> (batch, clips, frames, C, H, W): clip i is the video rolled by i frames, every
    other one flipped, so that the clips differ and each sample's clips depend on that sample only."""
    clips = [pixel_values_videos.roll(i, dims=1) for i in range(num_clips)]
    clips = [clip.flip(-1) if i % 2 else clip for i, clip in enumerate(clips)]
    return torch.stack(clips, dim=1)


class HfvidModelTestMixin(ModelTesterMixin):
    """ModelTesterMixin set up for one hfvid method (``method``, a module of `hfvid.models`)."""

    method = None
    test_resize_embeddings = False
    test_torch_exportable = False  # the export tests (ExportTesterMixin) are not in transformers' sdist
    has_attentions = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        classes = cls.method.AUTO_CLASSES
        model_type = classes["AutoConfig"].model_type
        # The mixin tells a model's role from transformers' own name tables (base model: no labels, no training
        # loss; video classifier: gets `labels`), which list transformers' models only. hfvid's classes enter them
        # as if they were transformers models, for this class's tests only.
        for table, auto_name in (
            (modeling_auto.MODEL_MAPPING_NAMES, "AutoModel"),
            (modeling_auto.MODEL_FOR_PRETRAINING_MAPPING_NAMES, "AutoModelForPreTraining"),
            (modeling_auto.MODEL_FOR_VIDEO_CLASSIFICATION_MAPPING_NAMES, "AutoModelForVideoClassification"),
        ):
            cls.enterClassContext(mock.patch.dict(table, {model_type: classes[auto_name].__name__}))

    model_tester_class = HfvidModelTester

    def setUp(self):
        self.model_tester = self.model_tester_class(self, self.method)
        self.config_tester = ConfigTester(
            self,
            config_class=self.method.AUTO_CLASSES["AutoConfig"],
            has_text_modality=False,
            common_properties=["backbone", "num_frames", "image_size"],
            **self.model_tester.config_kwargs(),
        )

    @property
    def all_model_classes(self):
        classes = self.method.AUTO_CLASSES
        classes = (classes["AutoModel"], classes["AutoModelForPreTraining"], classes["AutoModelForVideoClassification"])
        excluded = NOT_APPLICABLE_TO_CLASSES.get(self._testMethodName, {})
        return tuple(cls for cls in classes if cls.__name__ not in excluded)

    def _prepare_for_class(self, inputs_dict, model_class, return_labels=False):
        inputs_dict = copy.deepcopy(inputs_dict)
        if model_class is self.method.AUTO_CLASSES.get("AutoModelForPreTraining"):
            config = self.model_tester.get_config()
            if hasattr(config, "broad_num_frames"):  # BraVe: the narrow clip as it is, and a broad view
                inputs_dict["broad_values"] = broad_input(inputs_dict["pixel_values_videos"], config)
            elif hasattr(config, "decoder_width"):  # next-frame prediction: the clip as it is, and a next frame
                inputs_dict["next_frame_values"] = inputs_dict["pixel_values_videos"][:, 0].flip(-1)
            else:
                inputs_dict["pixel_values_videos"] = pretraining_input(inputs_dict["pixel_values_videos"], clips_per_sample(config))
        if return_labels and model_class is self.method.AUTO_CLASSES["AutoModelForVideoClassification"]:
            inputs_dict["labels"] = torch.zeros(self.model_tester.batch_size, dtype=torch.long, device=torch_device)
        return inputs_dict

    def test_config(self):
        self.config_tester.run_common_tests()

    def test_hidden_states_output(self):
        """The mixin's version expects token sequences (seq_length, hidden_size); a video CNN's hidden states are
        feature maps, so as in transformers' ResNet tests: the stem's output and each stage's, (..., channels, t, h,
        w), asked for by `output_hidden_states` as a forward argument or in the config."""
        backbone = self.model_tester.config_kwargs()["backbone"]
        size, frames = self.model_tester.image_size // 2, self.model_tester.num_frames  # the stem halves h and w
        frames -= backbone.get("input") == "frame_difference"
        expected = [(backbone["stem_width"], frames, size, size)]
        for stage, width in enumerate(backbone["widths"]):
            if stage > 0:  # every stage after the first halves t, h and w (3x3x3 conv, padding 1, stride 2)
                frames, size = (frames - 1) // 2 + 1, (size - 1) // 2 + 1
            expected.append((width, frames, size, size))

        def check(inputs_dict, config, model_class):
            model = model_class(copy.deepcopy(config)).to(torch_device).eval()
            with torch.no_grad():
                outputs = model(**self._prepare_for_class(inputs_dict, model_class))
            hidden_states = getattr(outputs, "hidden_states", None)
            self.assertIsNotNone(hidden_states, f"{model_class.__name__} returns no hidden_states")
            self.assertEqual([tuple(h.shape[-4:]) for h in hidden_states], expected)

        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            with self.subTest(model_class=model_class.__name__, via="forward argument"):
                check({**inputs_dict, "output_hidden_states": True}, config, model_class)
            config_with = copy.deepcopy(config)
            config_with.output_hidden_states = True
            with self.subTest(model_class=model_class.__name__, via="config"):
                check(inputs_dict, config_with, model_class)

    def test_model(self):
        config, pixel_values_videos, _ = self.model_tester.prepare_config_and_inputs()
        model = self.method.AUTO_CLASSES["AutoModel"](config).to(torch_device).eval()
        with torch.no_grad():
            output = model(pixel_values_videos)
        self.assertEqual(output.pooler_output.shape, (self.model_tester.batch_size, self.model_tester.hidden_size))

    def test_for_video_classification(self):
        config, pixel_values_videos, labels = self.model_tester.prepare_config_and_inputs()
        model = self.method.AUTO_CLASSES["AutoModelForVideoClassification"](config).to(torch_device).eval()
        with torch.no_grad():
            output = model(pixel_values_videos, labels=labels)
        self.assertEqual(output.logits.shape, (self.model_tester.batch_size, self.model_tester.num_labels))
        self.assertEqual(output.loss.ndim, 0)

    def test_for_pretraining(self):
        config, pixel_values_videos, _ = self.model_tester.prepare_config_and_inputs()
        model_class = self.method.AUTO_CLASSES["AutoModelForPreTraining"]
        model = model_class(config).to(torch_device).train()
        output = model(**self._prepare_for_class({"pixel_values_videos": pixel_values_videos}, model_class))
        self.assertEqual(output.loss.ndim, 0)
        self.assertTrue(torch.isfinite(output.loss))
        output.loss.backward()


for _name, _reason in NOT_APPLICABLE.items():
    setattr(HfvidModelTestMixin, _name, unittest.skip(_reason)(lambda self: None))


# A video ViT smaller than vit_tiny, given complete: 2 x 2 x 2 = 8 tokens of 16 features, 2 blocks of 2 heads.
TINY_VIT = vit_config({"arch": "vit", "image_size": 16, "num_frames": 4, "patch_size": 8, "tubelet_size": 2,
                       "hidden_size": 16, "depth": 2, "num_heads": 2})  # fmt: skip


class HfvidViTModelTester(HfvidModelTester):
    """The method with the video ViT backbone: token sequences, attention weights."""

    def __init__(self, parent, method, **kwargs):
        super().__init__(parent, method, **kwargs)
        self.hidden_size = TINY_VIT["hidden_size"]
        self.num_hidden_layers = TINY_VIT["depth"]
        self.num_attention_heads = TINY_VIT["num_heads"]
        self.seq_length = (self.num_frames // 2) * (self.image_size // 8) ** 2

    def config_kwargs(self) -> dict:
        return {**super().config_kwargs(), "backbone": copy.deepcopy(TINY_VIT)}


class HfvidViTModelTestMixin(HfvidModelTestMixin):
    """The common tests for a method with the video ViT backbone, attention and hidden-state tests included (the
    mixin's own versions: hidden states are (clips, tokens, hidden) sequences)."""

    has_attentions = True
    model_tester_class = HfvidViTModelTester

    def test_hidden_states_output(self):
        ModelTesterMixin.test_hidden_states_output(self)


class HfvidVideoProcessingTester:
    """As transformers' VideoMAEVideoProcessingTester, with hfvid's processors' clip length set to the input's."""

    def __init__(self, parent, batch_size=3, num_frames=8, num_channels=3, min_resolution=30, max_resolution=60):
        self.parent = parent
        self.batch_size = batch_size
        self.num_frames = num_frames
        self.num_channels = num_channels
        self.min_resolution = min_resolution
        self.max_resolution = max_resolution
        self.size = {"shortest_edge": 20}
        self.crop_size = {"height": 18, "width": 18}

    def prepare_video_processor_dict(self):
        return {
            "do_resize": True,
            "size": self.size,
            "do_center_crop": True,
            "crop_size": self.crop_size,
            "do_rescale": True,
            "rescale_factor": 1 / 255,
            "do_normalize": True,
            "image_mean": IMAGENET_STANDARD_MEAN,
            "image_std": IMAGENET_STANDARD_STD,
            "do_convert_rgb": True,
            "num_frames": self.num_frames,
        }

    def expected_output_video_shape(self, videos):
        return self.num_frames, self.num_channels, self.crop_size["height"], self.crop_size["width"]

    def prepare_video_inputs(self, equal_resolution=False, return_tensors="pil"):
        return prepare_video_inputs(
            batch_size=self.batch_size,
            num_frames=self.num_frames,
            num_channels=self.num_channels,
            min_resolution=self.min_resolution,
            max_resolution=self.max_resolution,
            equal_resolution=equal_resolution,
            return_tensors=return_tensors,
        )


class HfvidVideoProcessingTestMixin(VideoProcessingTestMixin):
    method = None
    input_name = "pixel_values_videos"

    @property
    def fast_video_processing_class(self):
        return self.method.AUTO_CLASSES["AutoVideoProcessor"]

    def setUp(self):
        super().setUp()
        self.video_processor_tester = HfvidVideoProcessingTester(self)

    @property
    def video_processor_dict(self):
        return self.video_processor_tester.prepare_video_processor_dict()


for _name, _reason in NOT_APPLICABLE.items():
    if hasattr(HfvidVideoProcessingTestMixin, _name):
        setattr(HfvidVideoProcessingTestMixin, _name, unittest.skip(_reason)(lambda self: None))


class TransRankModelTest(HfvidModelTestMixin, unittest.TestCase):
    method = transrank


class TransRankVideoProcessingTest(HfvidVideoProcessingTestMixin, unittest.TestCase):
    method = transrank


class MoCoModelTest(HfvidModelTestMixin, unittest.TestCase):
    method = moco


class MoCoVideoProcessingTest(HfvidVideoProcessingTestMixin, unittest.TestCase):
    method = moco


class RINCEModelTest(HfvidModelTestMixin, unittest.TestCase):
    method = rince


class RINCEVideoProcessingTest(HfvidVideoProcessingTestMixin, unittest.TestCase):
    method = rince


class SimCLRModelTest(HfvidModelTestMixin, unittest.TestCase):
    method = simclr


class SimCLRVideoProcessingTest(HfvidVideoProcessingTestMixin, unittest.TestCase):
    method = simclr


class BYOLModelTest(HfvidModelTestMixin, unittest.TestCase):
    method = byol


class BYOLVideoProcessingTest(HfvidVideoProcessingTestMixin, unittest.TestCase):
    method = byol


class SimSiamModelTest(HfvidModelTestMixin, unittest.TestCase):
    method = simsiam


class SimSiamVideoProcessingTest(HfvidVideoProcessingTestMixin, unittest.TestCase):
    method = simsiam


class BFPModelTest(HfvidModelTestMixin, unittest.TestCase):
    method = bfp


class BFPVideoProcessingTest(HfvidVideoProcessingTestMixin, unittest.TestCase):
    method = bfp


class BraVeModelTest(HfvidModelTestMixin, unittest.TestCase):
    method = brave


class BraVeVideoProcessingTest(HfvidVideoProcessingTestMixin, unittest.TestCase):
    method = brave


class LSFDModelTest(HfvidModelTestMixin, unittest.TestCase):
    method = lsfd


class LSFDVideoProcessingTest(HfvidVideoProcessingTestMixin, unittest.TestCase):
    method = lsfd


class HDCModelTest(HfvidModelTestMixin, unittest.TestCase):
    method = hdc


class HDCVideoProcessingTest(HfvidVideoProcessingTestMixin, unittest.TestCase):
    method = hdc


class NextFrameModelTest(HfvidModelTestMixin, unittest.TestCase):
    method = nextframe


class NextFrameVideoProcessingTest(HfvidVideoProcessingTestMixin, unittest.TestCase):
    method = nextframe


class TransRankViTModelTest(HfvidViTModelTestMixin, unittest.TestCase):
    method = transrank


class MoCoViTModelTest(HfvidViTModelTestMixin, unittest.TestCase):
    method = moco


class RINCEViTModelTest(HfvidViTModelTestMixin, unittest.TestCase):
    method = rince


class SimCLRViTModelTest(HfvidViTModelTestMixin, unittest.TestCase):
    method = simclr


class BYOLViTModelTest(HfvidViTModelTestMixin, unittest.TestCase):
    method = byol


class SimSiamViTModelTest(HfvidViTModelTestMixin, unittest.TestCase):
    method = simsiam


class BFPViTModelTest(HfvidViTModelTestMixin, unittest.TestCase):
    method = bfp


class BraVeViTModelTest(HfvidViTModelTestMixin, unittest.TestCase):
    method = brave


class LSFDViTModelTest(HfvidViTModelTestMixin, unittest.TestCase):
    method = lsfd


class HDCViTModelTest(HfvidViTModelTestMixin, unittest.TestCase):
    method = hdc


class NextFrameViTModelTest(HfvidViTModelTestMixin, unittest.TestCase):
    method = nextframe


# VideoMAE and V-JEPA pre-train transformers' own model classes, which transformers' own tests cover; hfvid adds the
# processors and V-JEPA's VJEPAForPreTraining, tested here.
SAVED_AS_TRANSFORMERS_PROCESSOR = (
    "cannot apply: the saved config names transformers' own processor class on purpose, so that the folder loads "
    "without hfvid; AutoVideoProcessor returns that class, without the pre-training settings (test_videomae.py and "
    "test_vjepa.py check what it loads)"
)


class VideoMAEVideoProcessingTest(HfvidVideoProcessingTestMixin, unittest.TestCase):
    method = videomae
    input_name = "pixel_values"

    @unittest.skip(SAVED_AS_TRANSFORMERS_PROCESSOR)
    def test_video_processor_save_load_with_autovideoprocessor(self):
        pass


class VJEPAVideoProcessingTest(HfvidVideoProcessingTestMixin, unittest.TestCase):
    method = vjepa

    @unittest.skip(SAVED_AS_TRANSFORMERS_PROCESSOR)
    def test_video_processor_save_load_with_autovideoprocessor(self):
        pass


class VJEPAForPreTrainingTester:
    """Tiny V-JEPA config and inputs (a clip and its two target masks) for hfvid's `VJEPAForPreTraining`."""

    def __init__(self, parent, batch_size=2):
        self.parent = parent
        self.batch_size = batch_size
        self.is_training = True
        self.hidden_size = 16
        self.num_hidden_layers = 2
        self.num_attention_heads = 2
        self.seq_length = 2 * 2 * 2

    def get_config(self):
        return vjepa.VJEPAPreTrainingConfig(
            crop_size=16, frames_per_clip=4, patch_size=8, tubelet_size=2, hidden_size=16, num_hidden_layers=2,
            num_attention_heads=2, pred_hidden_size=8, pred_num_hidden_layers=1, pred_num_attention_heads=2,
            pred_num_mask_tokens=2, num_pooler_layers=1,
        )  # fmt: skip

    def prepare_config_and_inputs_for_common(self):
        pixel_values_videos = floats_tensor([self.batch_size, 4, 3, 16, 16])
        # Each video: 2 of its 8 tokens are the short-range targets, 4 the long-range ones (equal counts: no cut).
        target_masks = torch.zeros(self.batch_size, 2, 8, dtype=torch.bool)
        target_masks[:, 0, :2] = True
        target_masks[:, 1, 4:] = True
        return self.get_config(), {"pixel_values_videos": pixel_values_videos, "target_masks": target_masks}


class VJEPAForPreTrainingModelTest(ModelTesterMixin, unittest.TestCase):
    all_model_classes = (vjepa.VJEPAForPreTraining,)
    test_resize_embeddings = False
    test_torch_exportable = False
    has_attentions = False

    def setUp(self):
        self.model_tester = VJEPAForPreTrainingTester(self)
        self.config_tester = ConfigTester(self, config_class=vjepa.VJEPAPreTrainingConfig, has_text_modality=False)

    def test_config(self):
        self.config_tester.run_common_tests()

    def test_model_get_set_embeddings(self):  # as transformers' own V-JEPA 2 test: a video's patch embedding
        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        model = vjepa.VJEPAForPreTraining(config)
        self.assertIsInstance(model.get_input_embeddings(), VJEPA2PatchEmbeddings3D)

    @unittest.skip("cannot apply: the hidden states are the EMA target encoder's, which gets no gradient by design")
    def test_retain_grad_hidden_states_attentions(self):
        pass

    # The context encoder's layers run once per target mask in one forward (as V-JEPA's MultiMaskWrapper), with
    # different position masks; the test's mock replays only a layer's last call. test_vjepa.py checks that loss and
    # gradients with gradient checkpointing equal those without.
    CHECKPOINT_MOCK = "cannot apply: a layer runs twice per forward (once per target mask) and the mock replays one call"

    @unittest.skip(CHECKPOINT_MOCK)
    def test_training_gradient_checkpointing(self):
        pass

    @unittest.skip(CHECKPOINT_MOCK)
    def test_training_gradient_checkpointing_use_reentrant_false(self):
        pass

    @unittest.skip(CHECKPOINT_MOCK)
    def test_training_gradient_checkpointing_use_reentrant_true(self):
        pass


# Sideways: a frame-wise backbone (stem and two stages; the second block takes a temporal skip from the stem, so the
# Skip-Sideways paths are exercised) and no pre-training class: Sideways is a way to train a classifier with labels.
TINY_FRAMEWISE = {"arch": "framewise", "in_channels": 3, "layers": [1, 1], "widths": [4, 8], "stem_width": 4,
                  "stem_stride": 1, "temporal_skips": True, "gradient_mode": "bptt"}  # fmt: skip


class SidewaysModelTester(HfvidModelTester):
    def config_kwargs(self) -> dict:
        return {"backbone": copy.deepcopy(TINY_FRAMEWISE), "num_frames": self.num_frames, "image_size": self.image_size,
                "training_mode": "sideways"}  # fmt: skip


class SidewaysModelTest(HfvidModelTestMixin, unittest.TestCase):
    """The common tests of `SidewaysModel` and `SidewaysForVideoClassification` in Sideways mode: the mixin's training
    tests run its pipelined gradients through ``loss.backward()``."""

    method = sideways
    model_tester_class = SidewaysModelTester

    @classmethod
    def setUpClass(cls):
        super(HfvidModelTestMixin, cls).setUpClass()
        for table, auto_name in (
            (modeling_auto.MODEL_MAPPING_NAMES, "AutoModel"),
            (modeling_auto.MODEL_FOR_VIDEO_CLASSIFICATION_MAPPING_NAMES, "AutoModelForVideoClassification"),
        ):
            cls.enterClassContext(mock.patch.dict(table, {"sideways": cls.method.AUTO_CLASSES[auto_name].__name__}))

    @property
    def all_model_classes(self):
        return (sideways.SidewaysModel, sideways.SidewaysForVideoClassification)

    def test_hidden_states_output(self):
        """Every unit's output at every time step, (batch, channels, frames, h, w): the stem's and the first block's
        at full resolution, the second block's at half."""
        frames, size = self.model_tester.num_frames, self.model_tester.image_size
        expected = [(4, frames, size, size), (4, frames, size, size), (8, frames, size // 2, size // 2)]
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            model = model_class(copy.deepcopy(config)).to(torch_device).eval()
            with torch.no_grad():
                outputs = model(**inputs_dict, output_hidden_states=True)
            self.assertEqual([tuple(h.shape[-4:]) for h in outputs.hidden_states], expected)

    @unittest.skip("cannot apply: Sideways has no self-supervised pre-training class")
    def test_for_pretraining(self):
        pass


class SidewaysVideoProcessingTest(HfvidVideoProcessingTestMixin, unittest.TestCase):
    method = sideways


class MVFormerModelTester:
    """Tiny MV-Former (a 2-layer ViT on 16 px frames: 4 patches) and its inputs: 4 frames per view."""

    def __init__(self, parent, batch_size=2, num_frames=4):
        self.parent = parent
        self.batch_size = batch_size
        self.num_frames = num_frames
        self.is_training = True
        self.hidden_size = 8
        self.num_hidden_layers = 1  # of the temporal transformer, over frames x entity tokens
        self.seq_length = num_frames * 2

    def config_kwargs(self) -> dict:
        return {
            "image_encoder": {"model_type": "vit", "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2,
                              "intermediate_size": 16, "image_size": 16, "patch_size": 8},
            "encoder_layers": [1, 2], "num_entity_tokens": 2, "hidden_size": 8, "num_temporal_layers": 1,
            "num_temporal_heads": 2, "embedding_dim": 8, "projection_hidden_dim": 16, "max_frames": 8,
            "num_frames": self.num_frames, "image_size": 16,
        }  # fmt: skip

    def get_config(self):
        return mvformer.MVFormerConfig(**self.config_kwargs())

    def prepare_config_and_inputs_for_common(self):
        return self.get_config(), {"pixel_values_videos": floats_tensor([self.batch_size, self.num_frames, 3, 16, 16])}


class MVFormerModelTest(ModelTesterMixin, unittest.TestCase):
    """The common tests of `MVFormerModel` and `MVFormerForPreTraining` (two views and their timestamps)."""

    all_model_classes = (mvformer.MVFormerModel, mvformer.MVFormerForPreTraining)
    test_resize_embeddings = False
    test_torch_exportable = False
    has_attentions = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for table, name in ((modeling_auto.MODEL_MAPPING_NAMES, "MVFormerModel"),
                            (modeling_auto.MODEL_FOR_PRETRAINING_MAPPING_NAMES, "MVFormerForPreTraining")):  # fmt: skip
            cls.enterClassContext(mock.patch.dict(table, {"mvformer": name}))

    def setUp(self):
        self.model_tester = MVFormerModelTester(self)
        self.config_tester = ConfigTester(self, config_class=mvformer.MVFormerConfig, has_text_modality=False,
                                          common_properties=["hidden_size", "num_frames", "image_size"],
                                          **self.model_tester.config_kwargs())  # fmt: skip

    def _prepare_for_class(self, inputs_dict, model_class, return_labels=False):
        inputs_dict = copy.deepcopy(inputs_dict)
        if model_class is mvformer.MVFormerForPreTraining:
            clip = inputs_dict["pixel_values_videos"]
            inputs_dict["pixel_values_videos"] = torch.stack([clip, clip.flip(-1)], dim=1)
            steps = torch.arange(self.model_tester.num_frames, dtype=torch.float32)
            inputs_dict["timestamps"] = torch.stack([steps, steps + 1]).expand(clip.shape[0], -1, -1).to(torch_device)
        return inputs_dict

    def test_config(self):
        self.config_tester.run_common_tests()

    def test_model_get_set_embeddings(self):  # as transformers' own image-model tests: the encoder's patch embedding
        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            model = model_class(config)
            self.assertIsInstance(model.get_input_embeddings(), ViTPatchEmbeddings)


class MVFormerVideoProcessingTest(HfvidVideoProcessingTestMixin, unittest.TestCase):
    method = mvformer
