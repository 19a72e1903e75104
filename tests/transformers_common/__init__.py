"""transformers' own common test mixins, imported from the pinned transformers release's files.

``scripts/setup.sh`` extracts ``tests/test_modeling_common.py``, ``tests/test_configuration_common.py`` and
``tests/test_video_processing_common.py`` of the transformers sdist (the version pinned in constraints.txt) into
``.cache/transformers-tests/<version>/``. Those files import three subpackages of transformers' test tree that the
sdist does not carry; `load` builds a package from the cached files plus the shims of `shims` in their place,
without copying transformers' files into this repository.
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import transformers

from . import shims

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache" / "transformers-tests" / transformers.__version__
FILES = ("test_modeling_common.py", "test_configuration_common.py", "test_video_processing_common.py")
PACKAGE = "_transformers_tests"
SETUP_COMMAND = "bash scripts/setup.sh"


def missing_reason() -> str | None:
    """Why the cached files cannot be used (None when they can)."""
    missing = [name for name in FILES if not (CACHE_DIR / name).is_file()]
    if missing:
        return (
            f"transformers {transformers.__version__}'s common test files {missing} are not in "
            f"{CACHE_DIR.relative_to(REPO_ROOT)}/; run `{SETUP_COMMAND}` (it fetches them from the PyPI sdist)"
        )
    return None


def load() -> types.SimpleNamespace:
    """Import the three common test modules as ``_transformers_tests.<name>``; raises `ImportError` with
    `missing_reason` when the cache is missing."""
    reason = missing_reason()
    if reason:
        raise ImportError(reason)
    # test_configuration_common runs `direct_transformers_import(<its folder>)`, which executes the folder's
    # __init__.py (empty in transformers' repository) and returns the installed transformers.
    (CACHE_DIR / "__init__.py").touch()
    if PACKAGE not in sys.modules:
        package = types.ModuleType(PACKAGE, "transformers' tests/ of the installed release, with shims")
        package.__path__ = [str(CACHE_DIR)]  # the cached files, imported as submodules
        sys.modules[PACKAGE] = package
        for dotted, module in shims.modules().items():  # the subpackages the sdist lacks
            module.__name__ = f"{PACKAGE}.{dotted}"
            sys.modules[module.__name__] = module
    return types.SimpleNamespace(
        **{name[: -len(".py")]: importlib.import_module(f"{PACKAGE}.{name[: -len('.py')]}") for name in FILES}
    )
