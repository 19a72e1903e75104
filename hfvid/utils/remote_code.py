"""Ship a model's code inside its saved folder, so that people without hfvid can load it.

transformers loads remote code (``trust_remote_code=True``) from flat module files next to
``config.json`` and follows only single-dot relative imports between them. Our model files
import shared code (backbones, sampling, ...) as ``from hfvid.<pkg>.<module> import name``;
``write_remote_code`` copies each of those modules into the folder under its own file name
and rewrites the imports to ``from .<module> import name``.

Rules for modules that end up in a saved folder: import hfvid code only as
``from hfvid.<pkg>.<module> import ...`` (a concrete module, never a package ``__init__``),
and import only packages a transformers user has (torch, torchvision, numpy, transformers).
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
from pathlib import Path

_HFVID_IMPORT = re.compile(r"^(\s*from\s+)hfvid\.(?:[\w]+\.)*(\w+)(\s+import\b)", flags=re.MULTILINE)


def _imported_modules(module_name: str) -> list[str]:
    """The hfvid modules that ``module_name`` imports (absolute, or relative within its package)."""
    module = importlib.import_module(module_name)
    package = module_name.rsplit(".", 1)[0]
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name.split(".")[0] == "hfvid" for alias in node.names):
            raise ValueError(f"{module.__file__}: use `from hfvid.<pkg>.<module> import name`, not `import hfvid...`")
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 1 and node.module:
            found.append(f"{package}.{node.module}")
        elif node.level == 0 and node.module and node.module.split(".")[0] == "hfvid":
            found.append(node.module)
        elif node.level > 1:
            raise ValueError(f"{module.__file__}: relative imports beyond the module's own package cannot be bundled")
    for name in found:
        if hasattr(importlib.import_module(name), "__path__"):
            raise ValueError(f"{module.__file__} imports the package {name}; import from its concrete module instead")
    return found


def bundled_modules(module_name: str) -> list[str]:
    """``module_name`` and every hfvid module it needs, transitively, in a stable order."""
    order, pending = [], [module_name]
    while pending:
        name = pending.pop(0)
        if name in order:
            continue
        order.append(name)
        pending.extend(_imported_modules(name))
    return order


def _copy_modules(save_directory: Path, module_names: list[str]) -> None:
    """Copy each module and every hfvid module it needs into ``save_directory`` as flat files, their hfvid imports
    rewritten to relative ones."""
    written: dict[str, str] = {}
    for module_name in module_names:
        for name in bundled_modules(module_name):
            file_name = name.rsplit(".", 1)[-1] + ".py"
            if written.get(file_name, name) != name:
                raise ValueError(f"two bundled modules share the file name {file_name}: {written[file_name]} and {name}")
            written[file_name] = name
            source = Path(importlib.import_module(name).__file__).read_text(encoding="utf-8")
            (save_directory / file_name).write_text(_HFVID_IMPORT.sub(r"\1.\2\3", source), encoding="utf-8")


def write_remote_code(save_directory: str | os.PathLike, classes: dict[str, type], config_file: str) -> dict[str, str]:
    """Copy the code of ``classes`` (auto class name -> class) into ``save_directory`` as flat modules
    and record them in the ``auto_map`` of ``config_file`` (a JSON file in that folder).

    Returns the ``auto_map`` entries written, e.g. ``{"AutoModel": "modeling_transrank.TransRankModel"}``.
    """
    save_directory = Path(save_directory)
    _copy_modules(save_directory, [cls.__module__ for cls in classes.values()])

    auto_map = {auto: f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}" for auto, cls in classes.items()}
    config_path = save_directory / config_file
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["auto_map"] = {**config.get("auto_map", {}), **auto_map}
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return auto_map


REMOTE_PIPELINE_TASK = "hfvid-video-feature-extraction"


def write_remote_pipeline(save_directory: str | os.PathLike, config_file: str = "config.json") -> dict:
    """Copy the ``video-feature-extraction`` pipeline's code into ``save_directory`` and declare it in the config's
    ``custom_pipelines`` under ``REMOTE_PIPELINE_TASK``, so that without hfvid
    ``pipeline(model=folder, trust_remote_code=True)`` extracts features. (Under the registered task's own name the
    entry would make transformers ask hfvid users, who have the task registered, for ``trust_remote_code`` too.)
    Returns the ``custom_pipelines`` entry written."""
    from hfvid.pipelines.video_feature_extraction import VideoFeatureExtractionPipeline

    save_directory = Path(save_directory)
    module = VideoFeatureExtractionPipeline.__module__
    _copy_modules(save_directory, [module])
    config_path = save_directory / config_file
    config = json.loads(config_path.read_text(encoding="utf-8"))
    impl = f"{module.rsplit('.', 1)[-1]}.{VideoFeatureExtractionPipeline.__name__}"
    config["custom_pipelines"] = {REMOTE_PIPELINE_TASK: {"impl": impl, "pt": ["AutoModel"], "tf": [], "type": "video"}}
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return config["custom_pipelines"]
