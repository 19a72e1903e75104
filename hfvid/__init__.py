"""hfvid: self-supervised video representation learning, native to the Hugging Face ecosystem.

Importing hfvid registers every method with transformers' Auto classes, so that
``AutoModel.from_pretrained(<an hfvid model>)`` works, and the ``video-feature-extraction`` pipeline with
transformers' pipeline registry.
"""

__version__ = "0.1.0.dev0"

from hfvid.models import METHODS, register_auto_classes
from hfvid.pipelines import register_pipelines
from hfvid.presets import get_config, list_configs

register_auto_classes()
register_pipelines()

# Every method's public classes at the top level (``from hfvid import TransRankForPreTraining``), looked up on first
# use: the method packages are already imported to register them, so this costs nothing at import time.
_METHOD_EXPORTS = {name: method for method in METHODS for name in method.__all__ if not name.isupper()}


def __getattr__(name: str):
    if name in _METHOD_EXPORTS:
        return getattr(_METHOD_EXPORTS[name], name)
    raise AttributeError(f"module 'hfvid' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_METHOD_EXPORTS})


__all__ = ["get_config", "list_configs", "register_auto_classes", "register_pipelines", *sorted(_METHOD_EXPORTS)]
