"""Stand-ins for the parts of transformers' test tree that its sdist leaves out and the common test files import.

- ``exporters.test_export.ExportTesterMixin``: the base class of ``ModelTesterMixin``; the real one adds the
  torch.export / ONNX / ExecuTorch export tests (they need transformers' exporter backends). Empty here, so those
  tests are not run.
- ``generation.test_utils.GenerationTesterMixin``: ``ModelTesterMixin.test_generation_tester_mixin_inheritance``
  only checks ``issubclass`` against it; hfvid models cannot generate and do not inherit it. Empty here.
- ``utils.test_configuration_utils.config_common_kwargs``: the values `ConfigTester.check_config_arguments_init`
  passes to a config, as transformers' tests/utils/test_configuration_utils.py defines them in the 5.x releases
  (one non-default value per attribute of a bare ``PreTrainedConfig()``).
"""

from __future__ import annotations

import types


class ExportTesterMixin:
    """Empty: transformers' export tests are not run."""


class GenerationTesterMixin:
    """Empty: hfvid models do not generate."""


config_common_kwargs = {
    "return_dict": False,
    "output_hidden_states": True,
    "output_attentions": True,
    "dtype": "float16",
    "chunk_size_feed_forward": 5,
    "architectures": ["BertModel"],
    "id2label": {0: "label"},
    "label2id": {"label": "0"},
    "problem_type": "regression",
}


def modules() -> dict[str, types.ModuleType]:
    """The shim modules (and their parent packages), by dotted name below the test package."""
    contents = {
        "exporters": {},
        "exporters.test_export": {"ExportTesterMixin": ExportTesterMixin},
        "generation": {},
        "generation.test_utils": {"GenerationTesterMixin": GenerationTesterMixin},
        "utils": {},
        "utils.test_configuration_utils": {"config_common_kwargs": config_common_kwargs},
    }
    result = {}
    for dotted, attributes in contents.items():
        module = types.ModuleType(dotted, __doc__)
        if "." not in dotted:
            module.__path__ = []  # a package: its submodules are registered in sys.modules
        module.__dict__.update(attributes)
        result[dotted] = module
    return result
