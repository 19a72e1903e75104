"""hfvid: self-supervised video representation learning, native to the Hugging Face ecosystem.

Importing hfvid registers every method with transformers' Auto classes, so that
``AutoModel.from_pretrained(<an hfvid model>)`` works.
"""

__version__ = "0.1.0.dev0"

from hfvid.models import register_auto_classes
from hfvid.presets import get_config, list_configs

register_auto_classes()

__all__ = ["get_config", "list_configs", "register_auto_classes"]
