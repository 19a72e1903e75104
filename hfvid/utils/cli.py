"""Command-line conventions shared by hfvid's scripts: option names with underscores (as transformers'
`HfArgumentParser`), each also accepted with dashes, defaults shown in ``--help``, and ``--config_overrides``
parsed the same way everywhere."""

from __future__ import annotations

import argparse

import yaml


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The description as written, and every option's default in ``--help``."""


def accept_dashes(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Let every ``--some_option`` also be given as ``--some-option`` (and the reverse), hidden from ``--help``."""
    for action in list(parser._actions):
        for option in list(action.option_strings):
            if not option.startswith("--"):
                continue
            for alias in ("--" + option[2:].replace("_", "-"), "--" + option[2:].replace("-", "_")):
                if alias not in parser._option_string_actions:
                    parser._option_string_actions[alias] = action
    return parser


def parse_config_overrides(text: str | None) -> dict:
    """'a=1,b=0.5,c=[1, 2],d=[{x: 1, y: 2}]' -> {"a": 1, "b": 0.5, "c": [1, 2], "d": [{"x": 1, "y": 2}]}; values
    are YAML, so numbers, lists and mappings keep their type (commas inside brackets or braces stay in the value)."""
    items, depth, start = [], 0, 0
    for position, char in enumerate(text or ""):
        depth += (char in "[{") - (char in "]}")
        if char == "," and depth == 0:
            items.append(text[start:position])
            start = position + 1
    items.append((text or "")[start:])
    overrides = {}
    for item in filter(None, items):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--config_overrides: expected key=value, got {item!r}")
        overrides[key.strip()] = yaml.safe_load(value)
    return overrides
