"""hfvid: self-supervised video representation learning, native to the Hugging Face ecosystem."""

__version__ = "0.1.0.dev0"
