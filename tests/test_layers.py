"""Layers point down only: data, backbones, losses and utils know no method; hub/ imports nothing from models/;
nothing imports cli/ (the programs), nothing in hfvid/ imports training/. Read from the sources' import statements."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "hfvid"
# package -> hfvid packages it must not import
FORBIDDEN = {
    "data": {"models", "hub", "evaluation", "backbones", "cli"},
    "backbones": {"models", "hub", "evaluation", "data", "cli"},
    "losses": {"models", "hub", "evaluation", "data", "backbones", "cli"},
    "utils": {"models", "hub", "evaluation", "cli"},
    "hub": {"models", "evaluation", "cli"},
    "evaluation": {"models", "hub", "cli"},
    "models": {"hub", "evaluation", "cli"},
    "pipelines": {"models", "hub", "evaluation", "data", "cli"},
}  # cli/ (the programs) sits on top: nothing imports it


def hfvid_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
        found |= {name for name in names if name.split(".")[0] in ("hfvid", "training", "pretrain", "finetune")}
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_point_down(package):
    wrong = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for name in hfvid_imports(path):
            parts = name.split(".")
            if parts[0] != "hfvid" or (len(parts) > 1 and parts[1] in FORBIDDEN[package]):
                wrong.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert not wrong, wrong
