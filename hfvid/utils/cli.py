"""Command-line conventions shared by hfvid's scripts: option names with underscores (as transformers'
`HfArgumentParser`), each also accepted with dashes, and defaults shown in ``--help``."""

from __future__ import annotations

import argparse


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
