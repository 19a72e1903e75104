"""The README's two tables of results, collected from the generated tables in docs/results/.

    python benchmarks/methods_table.py                     # print them
    python benchmarks/methods_table.py --readme README.md  # and rewrite them between the README's markers (and the plot)

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
PLOT = RESULTS / "methods_table.png"  # the README shows it under the table
# method -> (results file, row label in it[, its random init's row label]): the latest run that measured the tiny
# preset's current recipe; the random init is the file's first "random init" row unless named.
SOURCES = {
    "TransRank": ("ssl_methods_s18.md", "transrank-r3d18-tiny"),
    "TransCls": ("ssl_methods_s18.md", "transcls-r3d18-tiny"),
    "MoCo": ("ssl_methods_s18.md", "moco-r3d18-tiny"),
    "MoCo + E-SSL term": ("essl_s19.md", "moco+essl"),
    "SimCLR": ("ssl_methods_s19_batch32.md", "simclr-r3d18-tiny"),
    "BYOL": ("byol_batch32.md", "byol-r3d18-tiny"),
    "SimSiam": ("ssl_methods_s19_batch32.md", "simsiam-r3d18-tiny"),
    "SimSiam + E-SSL term": ("essl_s19.md", "simsiam+essl"),
    "RINCE": ("ssl_methods_s18.md", "rince-r3d18-tiny"),
    "LSFD": ("ssl_methods_s19.md", "lsfd-r3d18-tiny"),
    "BFP": ("ssl_methods_s19.md", "bfp-r3d18-tiny"),
    "BraVe": ("brave_batch32.md", "brave-r3d18-tiny"),
    "HDC": ("ssl_methods_s19.md", "hdc-r3d18-tiny"),
    "NextFrame": ("ssl_methods_s19.md", "nextframe-r3d18-tiny"),
    # transformers' own models on the tiny ViT, with that ViT's random init (a third element: its row's label).
    "VideoMAE (tiny ViT)": ("masked_prediction.md", "videomae-vit-tiny", "random init (videomae-vit-tiny)"),
    "V-JEPA (tiny ViT)": ("masked_prediction.md", "vjepa-vit-tiny", "random init (vjepa-vit-tiny)"),
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


def method_rows() -> list[dict]:
    """One dict per ``SOURCES`` method: its cells (``COLUMNS``), the same run's random-init linear probe, budget,
    pre-training wall per seed and source file."""
    found = []
    for method, (name, label, *random_label) in SOURCES.items():
        rows, budget = read_table(RESULTS / name)
        for wanted in (label, *random_label):
            if wanted not in rows:
                raise ValueError(f"{name} has no row {wanted!r}; rows: {sorted(rows)}")
        row = rows[label]
        random_init = rows[random_label[0]] if random_label else next(
            cells for key, cells in rows.items() if key.startswith("random init") and "paired" not in key
        )
        wall = next(value for key, value in row.items() if key.startswith("pre-training wall"))
        found.append(dict(method=method, cells=[row[column] for column in COLUMNS], random_init=random_init[COLUMNS[0]],
                          budget=budget, wall=wall, source=name))  # fmt: skip
    return found


def methods_table() -> str:
    lines = ["| method (tiny preset) | linear probe | kNN | R@1 | random init, same run: linear | steps x videos | pre-training wall per seed | source |",
             "|---|---:|---:|---:|---:|---|---:|---|"]  # fmt: skip
    for row in method_rows():
        lines.append(f"| {row['method']} | {' | '.join(row['cells'])} | {row['random_init']} | {row['budget']} | {row['wall']} | "
                     f"[{row['source']}](docs/results/{row['source']}) |")  # fmt: skip
    return "\n".join(lines) + "\n"


def plot_methods(path: Path, chance: float = 12.5) -> Path:
    """The table's linear probe as bars (mean over seeds, 95% interval), each method's same-run random init as a
    black diamond with its interval, and the chance level dashed."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def mean_and_half_width(cell: str) -> tuple[float, float]:
        mean, half_width = (float(part) for part in cell.split(" +- "))
        return mean, half_width

    rows = method_rows()[::-1]  # the table's first row at the top
    linear = [mean_and_half_width(row["cells"][0]) for row in rows]
    random_init = [mean_and_half_width(row["random_init"]) for row in rows]
    figure = Figure(figsize=(7, 0.35 * len(rows) + 1.2))
    axes = figure.add_subplot()
    positions = np.arange(len(rows))
    axes.barh(positions - 0.12, [m for m, _ in linear], height=0.5, xerr=[h for _, h in linear], capsize=2,
              color="tab:blue", alpha=0.8, label="pre-trained, linear probe")  # fmt: skip
    axes.errorbar([m for m, _ in random_init], positions + 0.28, xerr=[h for _, h in random_init], fmt="kD",
                  markersize=3, capsize=2, elinewidth=0.8, label="random init, same run")  # fmt: skip
    axes.axvline(chance, color="grey", linestyle="--", label="chance")
    axes.set_yticks(list(positions), labels=[f"{row['method']} ({row['budget']})" for row in rows], fontsize=8)
    axes.set_xlim(0, 100)
    axes.set_xlabel("linear probe top-1 on SynthMotion's test split (%), mean over 3 seeds, 95% interval")
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=150, bbox_inches="tight")
    return path


def finetune_rows(text: str) -> list[list[str]]:
    """The cells of each row of a table `bench_finetune.py` wrote: model, learning rate, accuracy per seed (comma
    separated), mean +- interval, wall time. (`bench_finetune.read_table` reads them too.)"""
    rows = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 5 and cells[0] != "model" and not set(cells[0]) <= set("-:"):
            rows.append(cells)
    return rows


def finetune_table() -> str:
    """`bench_finetune.py`'s table of ``FINETUNE`` as one row per model and a column per learning rate (mean +- 95%
    interval over its seeds), under the command and budget that wrote it."""
    name, labels = FINETUNE
    text = (RESULTS / name).read_text()
    lines = text.splitlines()
    command = re.search(r"written by: (.*?) -->", lines[0])
    if command is None:
        raise ValueError(f"{name}: its first line does not say which command wrote it")
    means: dict[str, dict[str, str]] = {}
    for model, rate, _, mean, _ in finetune_rows(text):
        means.setdefault(model, {})[rate] = mean
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
    parser.add_argument("--plot", default=None, help=f"draw the methods table's linear probe here (with --readme: {PLOT.name} by default)")
    args = parser.parse_args(argv)
    table, finetune = methods_table(), finetune_table()
    print(table, finetune, sep="\n")
    if args.plot or args.readme:  # the README shows the plot: rewriting one redraws the other
        print(f"drew {plot_methods(Path(args.plot) if args.plot else PLOT)}")
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
