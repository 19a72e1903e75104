"""The README's tables of methods and of fine-tuning learning rates are the ones `benchmarks/methods_table.py` builds
from docs/results/ now: a rerun of a source that was not carried into the README fails here."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import methods_table  # noqa: E402


def test_the_readme_holds_the_table_the_results_give():
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index(methods_table.START) : readme.index(methods_table.END)]
    assert methods_table.methods_table() in block
    assert block.count("\n| ") == len(methods_table.SOURCES) + 1  # the header and a row per method
    finetune = readme[readme.index(methods_table.FT_START) : readme.index(methods_table.FT_END)]
    assert methods_table.finetune_table() in finetune


def test_the_finetune_table_has_a_mean_per_model_and_rate(tmp_path, monkeypatch):
    name, labels = methods_table.FINETUNE
    table = methods_table.finetune_table()
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| fine-tuned")]
    assert [row.split(" | ")[0][2:] for row in rows] == list(labels.values())  # a row per model, named
    assert table.count("lr 0.0") == 4 and all(row.count(" +- ") == 4 for row in rows)
    (tmp_path / name).write_text("no command line\n")
    monkeypatch.setattr(methods_table, "RESULTS", tmp_path)
    with pytest.raises(ValueError, match="does not say which command wrote it"):
        methods_table.finetune_table()


def test_a_missing_row_is_named(tmp_path, monkeypatch):
    table = (ROOT / "docs" / "results" / "hdc_no_crop.md").read_text()
    (tmp_path / "hdc_no_crop.md").write_text(table.replace("| hdc-r3d18-tiny (n=3) |", "| hdc-renamed (n=3) |"))
    monkeypatch.setattr(methods_table, "RESULTS", tmp_path)
    monkeypatch.setattr(methods_table, "SOURCES", {"HDC": ("hdc_no_crop.md", "hdc-r3d18-tiny")})
    with pytest.raises(ValueError, match="hdc_no_crop.md has no row 'hdc-r3d18-tiny'"):
        methods_table.methods_table()


def test_the_table_is_drawn(tmp_path):
    path = methods_table.plot_methods(tmp_path / "methods.png")
    assert path.read_bytes().startswith(b"\x89PNG")
    assert [row["method"] for row in methods_table.method_rows()] == list(methods_table.SOURCES)
