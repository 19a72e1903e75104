"""The README's two tables of results, collected from the generated tables in docs/results/.

    python benchmarks/methods_table.py                     # print them
    python benchmarks/methods_table.py --readme README.md  # and rewrite them between the README's markers

Every method's tiny preset on SynthMotion, one row each: read from the `bench_ssl_methods.py` table that measured
the preset as it is now (``SOURCES``: file and row label), with the random init of the same run beside it, the
budget that run used and its pre-training wall time per seed. Fine-tuning at several learning rates, from random
weights and from pre-trained models: the mean of each (model, learning rate) of `bench_finetune.py`'s table
(``FINETUNE``). Nothing is typed in by hand, so a rerun of a source updates the README with this script.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "results"
# method -> (results file, row label in it): the latest run that measured the tiny preset's current recipe.
SOURCES = {
    "TransRank": ("ssl_methods_s18.md", "transrank-r3d18-tiny"),
    "TransCls": ("ssl_methods_s18.md", "transcls-r3d18-tiny"),
    "MoCo": ("ssl_methods_s18.md", "moco-r3d18-tiny"),
    "MoCo + E-SSL term": ("essl_moco.md", "moco+essl"),
    "SimCLR": ("ssl_methods_s19_batch32.md", "simclr-r3d18-tiny"),
    "BYOL": ("byol_batch32.md", "byol-r3d18-tiny"),
    "SimSiam": ("ssl_methods_s19_batch32.md", "simsiam-r3d18-tiny"),
    "SimSiam + E-SSL term": ("essl_simsiam.md", "simsiam+essl"),
    "RINCE": ("ssl_methods_s18.md", "rince-r3d18-tiny"),
    "LSFD": ("frame_difference_more_methods.md", "lsfd-diff"),
    "BFP": ("frame_difference_more_methods.md", "bfp-diff"),
    "BraVe": ("frame_difference_more_methods.md", "brave-diff"),
    "HDC": ("hdc_no_crop.md", "hdc-r3d18-tiny"),
    "NextFrame": ("nextframe_vs_transrank.md", "nextframe-r3d18-tiny"),
}
# bench_finetune.py's table of fine-tuning at several learning rates, and a readable name for each of its models.
FINETUNE = (
    "finetune_lr_dotmotion.md",
    {
        "transrank-r3d18-tiny": "random weights",
        "outputs/bench_diff_c/transrank-r3d18-tiny-seed0": "TransRank (pre-trained on SynthMotion, seed 0)",
        "outputs/bench_diff_b/moco-diff-seed0": "MoCo (pre-trained on SynthMotion, seed 0)",
    },
)
COLUMNS = ("Linear probe top-1", "kNN top-1", "Retrieval R@1")
START, END = "<!-- methods_table: start -->", "<!-- methods_table: end -->"
FT_START, FT_END = "<!-- finetune_table: start -->", "<!-- finetune_table: end -->"


def read_table(path: Path) -> tuple[dict[str, dict[str, str]], str]:
    """A generated table's rows by label (" (n=3)" removed), each a dict column -> cell; and the run's budget."""
    text = path.read_text()
    budget = re.search(r"(\d+) steps x (\d+) videos", text)
    if budget is None:
        raise ValueError(f"{path}: no 'N steps x M videos' budget in its header")
    rows, header = {}, None
    for line in text.splitlines():
        if not line.startswith("| "):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == "Model (values in %)":
            header = cells
        elif header is not None and not set(cells[0]) <= set("-:"):
            rows[re.sub(r" \(n=\d+\)$", "", cells[0])] = dict(zip(header, cells))
    return rows, f"{budget[1]} x {budget[2]}"


def methods_table() -> str:
    lines = ["| method (tiny preset) | linear probe | kNN | R@1 | random init, same run: linear | steps x videos | pre-training wall per seed | source |",
             "|---|---:|---:|---:|---:|---|---:|---|"]  # fmt: skip
    for method, (name, label) in SOURCES.items():
        rows, budget = read_table(RESULTS / name)
        if label not in rows:
            raise ValueError(f"{name} has no row {label!r}; rows: {sorted(rows)}")
        row = rows[label]
        random_init = next(cells for key, cells in rows.items() if key.startswith("random init") and "paired" not in key)
        wall = next(value for key, value in row.items() if key.startswith("pre-training wall"))
        cells = [row[column] for column in COLUMNS]
        lines.append(f"| {method} | {' | '.join(cells)} | {random_init[COLUMNS[0]]} | {budget} | {wall} | [{name}](docs/results/{name}) |")
    return "\n".join(lines) + "\n"


def finetune_table() -> str:
    """`bench_finetune.py`'s table of ``FINETUNE`` as one row per model and a column per learning rate (mean +- 95%
    interval over its seeds), under the command and budget that wrote it."""
    name, labels = FINETUNE
    lines = (RESULTS / name).read_text().splitlines()
    command = re.search(r"written by: (.*?) -->", lines[0])
    if command is None:
        raise ValueError(f"{name}: its first line does not say which command wrote it")
    means: dict[str, dict[str, str]] = {}
    for line in lines:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 5 and cells[0] != "model" and not set(cells[0]) <= set("-:"):
            means.setdefault(cells[0], {})[cells[1]] = cells[3]
    if not means:
        raise ValueError(f"{name} has no rows of (model, learning rate, per seed, mean, wall)")
    rates = list(dict.fromkeys(rate for row in means.values() for rate in row))
    table = ["| fine-tuned from | " + " | ".join(f"lr {rate}" for rate in rates) + " |", "|---|" + "---:|" * len(rates)]
    for model, row in means.items():
        table.append(f"| {labels.get(model, model)} | " + " | ".join(row.get(rate, "-") for rate in rates) + " |")
    setting = lines[1].rstrip(":")
    header = f"`{command[1]}` (values in %, mean +- 95% interval over the seeds; {setting}; each seed: [{name}](docs/results/{name})):"
    return header + "\n\n" + "\n".join(table) + "\n"


def replace_block(text: str, start: str, end: str, body: str, where: str) -> str:
    if start not in text or end not in text:
        raise SystemExit(f"{where} has no {start} ... {end} markers")
    return text[: text.index(start)] + f"{start}\n{body}{end}" + text[text.index(end) + len(end) :]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readme", default=None, help=f"rewrite this file between {START} and {END}, and {FT_START} and {FT_END}")
    args = parser.parse_args(argv)
    table, finetune = methods_table(), finetune_table()
    print(table, finetune, sep="\n")
    if args.readme:
        readme = Path(args.readme)
        methods = (
            "`python benchmarks/methods_table.py --readme README.md` (values in %, mean +- 95% interval over "
            f"3 seeds, SynthMotion test split, 256 videos, chance 12.5; each run's wall time on a shared 2-core CPU):\n\n{table}"
        )
        text = replace_block(readme.read_text(), START, END, methods, readme)
        readme.write_text(replace_block(text, FT_START, FT_END, finetune, readme))
        print(f"rewrote {readme}")


if __name__ == "__main__":
    main()
