"""Build a Hugging Face Space folder that deploys as it is: ``python -m hfvid.hub.space build OUT --model X``.

OUT holds the Space's ``app.py`` (serving `hfvid.cli.space` for the model), hfvid itself, its wheel unpacked
next to ``app.py``, ``requirements.txt`` (hfvid's dependencies pinned to the versions installed here), ``packages.txt``
(FFmpeg for torchcodec), the Space card ``README.md`` and, for a local model folder, a copy of it. Upload OUT as a
Gradio Space (``hf upload <you>/<space> OUT . --repo-type space``) and it runs.

Why unpacked and not ``pip install``-ed from ``requirements.txt``: a Space installs ``requirements.txt`` in a build
step that sees that file alone (the repository's files are copied in after it), so a requirement that points at a
wheel inside the folder cannot be found then. The unpacked wheel (``hfvid/`` and ``hfvid-<version>.dist-info/``) is
exactly what ``pip install`` would put in site-packages; ``app.py`` puts its folder first on ``sys.path``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from packaging.requirements import Requirement

import hfvid
from hfvid.hub.model_card import TEMPLATES
from hfvid.hub.push import files_to_upload
from hfvid.utils.cli import HelpFormatter, accept_dashes

# Installed by the Space itself from the card's sdk_version; listing it again could pull another version.
PROVIDED_BY_SPACE = {"gradio"}
SPACE_EXTRA = "space"

APP = '''"""Hugging Face Space: hfvid's viewer for {model!r}, built by `python -m hfvid.hub.space build`.

Serves `hfvid.cli.space` (its docstring lists the settings, environment variables). hfvid is the unpacked
wheel next to this file, imported before any installed copy.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.chdir(HERE)  # the model folder and the cache paths are relative to the Space's folder
os.environ.setdefault("HFVID_MODEL", {model!r})

import hfvid  # noqa: E402
from hfvid.cli.space import main  # noqa: E402

print(f"hfvid {{hfvid.__version__}} from {{Path(hfvid.__file__).parent}}", flush=True)

if __name__ == "__main__":
    main()
'''


class SpaceBuildError(RuntimeError):
    """The Space folder cannot be built (message in words)."""


def source_tree() -> Path | None:
    """The source checkout the running hfvid comes from (an editable or in-place install), or None."""
    root = Path(hfvid.__file__).resolve().parents[1]
    pyproject = root / "pyproject.toml"
    return root if pyproject.is_file() and 'name = "hfvid"' in pyproject.read_text(encoding="utf-8") else None


def build_wheel(root: Path, out_dir: Path) -> Path:
    """Build hfvid's wheel from the checkout at ``root`` into ``out_dir`` (from a copy of its sources, so the
    checkout gets no build/ or egg-info); returns its path."""
    with tempfile.TemporaryDirectory(prefix="hfvid-wheel-") as tmp:
        source = Path(tmp) / "source"
        shutil.copytree(root / "hfvid", source / "hfvid", ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (root / name).is_file():
                shutil.copy2(root / name, source / name)
        command = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q", "-w", str(out_dir)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=tmp)
        if done.returncode != 0:
            raise SpaceBuildError(f"building hfvid's wheel from {root} failed:\n{done.stderr[-2000:]}")
    wheels = sorted(out_dir.glob("hfvid-*.whl"))
    if not wheels:
        raise SpaceBuildError(f"pip built no hfvid wheel from {root}")
    return wheels[-1]


def wheel_metadata(wheel: Path) -> tuple[str, list[Requirement]]:
    """(version, requirements) from a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        name = next((n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), None)
        if name is None:
            raise SpaceBuildError(f"{wheel} is not a wheel: it has no .dist-info/METADATA")
        text = archive.read(name).decode("utf-8")
    version, requirements = None, []
    for line in text.splitlines():
        if line.startswith("Version: "):
            version = line.removeprefix("Version: ").strip()
        elif line.startswith("Requires-Dist: "):
            requirements.append(Requirement(line.removeprefix("Requires-Dist: ")))
        elif not line.strip():
            break  # the headers end at the first empty line
    return version, requirements


def pinned_requirements(requirements: list[Requirement]) -> list[str]:
    """hfvid's requirements for a Space (no extra, or the ``space`` extra; not what the Space provides itself), each
    pinned to the version installed here (its local label such as ``+cpu`` dropped), else as the wheel states it."""
    lines = []
    for requirement in requirements:
        marker = str(requirement.marker) if requirement.marker else ""
        if requirement.name.lower() in PROVIDED_BY_SPACE or (marker and f'extra == "{SPACE_EXTRA}"' not in marker):
            continue
        try:
            version = importlib.metadata.version(requirement.name).split("+")[0]
            lines.append(f"{requirement.name}=={version}")
        except importlib.metadata.PackageNotFoundError:
            lines.append(f"{requirement.name}{requirement.specifier}")
    return sorted(set(lines), key=str.lower)


def build_space(out: str | os.PathLike, model: str, wheel: str | os.PathLike | None = None, title: str | None = None, overwrite: bool = False) -> Path:
    """Write a Space folder for ``model`` (a saved model folder, copied in, or a Hub id) into ``out``; returns it.

    ``wheel``: hfvid's wheel to carry; by default built from the checkout the running hfvid comes from. Raises
    `SpaceBuildError` when ``out`` is not empty (without ``overwrite``), the model folder is not a saved model or
    there is no wheel to carry.
    """
    try:
        gradio_version = importlib.metadata.version("gradio")
    except importlib.metadata.PackageNotFoundError:
        raise SpaceBuildError("gradio is not installed: the card names the gradio version it was built with; pip install 'hfvid[space]'") from None
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise SpaceBuildError(f"{out} exists and is not empty; choose an empty folder or pass --overwrite")
        shutil.rmtree(out)
    local = Path(model).expanduser()
    if local.exists() and not (local / "config.json").is_file():
        raise SpaceBuildError(f"{model} has no config.json: not a saved model folder (nor a Hub id)")
    out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="hfvid-space-") as tmp:
        if wheel is None:
            root = source_tree()
            if root is None:
                raise SpaceBuildError(
                    f"hfvid at {Path(hfvid.__file__).parent} is not a source checkout, so its wheel cannot be built "
                    "here; pass --wheel <hfvid-*.whl>"
                )
            wheel = build_wheel(root, Path(tmp))
        wheel = Path(wheel)
        if not wheel.is_file():
            raise SpaceBuildError(f"no wheel at {wheel}")
        version, requirements = wheel_metadata(wheel)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(out)
        wheel_name = wheel.name

    model_folder = None
    if local.exists():
        model_folder = local.resolve().name
        for relative in files_to_upload(local):
            (out / model_folder / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(local / relative, out / model_folder / relative)
    model_name = model_folder or model

    (out / "app.py").write_text(APP.format(model=model_name), encoding="utf-8")
    header = f"# hfvid {version}'s dependencies, pinned to the versions this Space was built with (gradio comes from README.md).\n"
    (out / "requirements.txt").write_text(header + "\n".join(pinned_requirements(requirements)) + "\n", encoding="utf-8")
    (out / "packages.txt").write_text("ffmpeg\n", encoding="utf-8")
    environment = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, keep_trailing_newline=True)
    card = environment.get_template("space.md").render(
        title=title or f"hfvid · {model_name.rsplit('/', 1)[-1]}",
        gradio_version=gradio_version,
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
        hub_model=None if model_folder else model,
        model_name=model_name,
        model_folder=model_folder,
        hfvid_version=version,
        wheel_name=wheel_name,
    )
    (out / "README.md").write_text(card, encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> None:
    """``python -m hfvid.hub.space build OUT --model X [--wheel W] [--title T] [--overwrite]``"""
    parser = argparse.ArgumentParser(prog="python -m hfvid.hub.space", description=__doc__, formatter_class=HelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    build = accept_dashes(commands.add_parser("build", help="write a Space folder", formatter_class=HelpFormatter))
    build.add_argument("out", help="the Space folder to write (empty or new)")
    build.add_argument("--model", required=True, help="a saved model folder (copied into the Space) or a Hub model id")
    build.add_argument("--wheel", default=None, help="hfvid wheel to carry (default: built from this checkout)")
    build.add_argument("--title", default=None, help="the Space's title (default: hfvid · <model name>)")
    build.add_argument("--overwrite", action="store_true", help="replace a non-empty OUT")
    args = parser.parse_args(argv)
    try:
        out = build_space(args.out, args.model, wheel=args.wheel, title=args.title, overwrite=args.overwrite)
    except SpaceBuildError as error:
        parser.exit(2, f"error: {error}\n")
    print(f"Space folder written to {out}; deploy it with: hf upload <you>/<space> {out} . --repo-type space")


if __name__ == "__main__":
    main()
