"""Small utilities shared across hfvid."""
