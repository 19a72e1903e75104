"""Converters from other libraries' weights to hfvid checkpoints."""
