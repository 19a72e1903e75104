"""Publishing a model folder to the Hub in one commit, or writing exactly what would be uploaded.

``push_model_folder(folder, repo_id)`` uploads weights, processor, code, card and plots with one
``HfApi.create_commit``; ``dry_run_dir=...`` copies the same files there instead, so what a push would
publish can be inspected (and served by a local Hub in tests). The uploaded card names the repo it goes to. Token and privacy come from the usual
places: ``token`` or ``HF_TOKEN`` / the saved login, ``private``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from huggingface_hub import CommitOperationAdd, HfApi, ModelCard

from hfvid.utils.cli import HelpFormatter, accept_dashes

# Run by-products that are not part of a published model.
LOCAL_ONLY = ("checkpoints", "eval_cache", "pretrain", "random_init", "metrics.jsonl", "runs", "training_args.bin")


def files_to_upload(folder: str | os.PathLike) -> list[Path]:
    """The files of ``folder`` a push publishes (relative paths, sorted): everything but the run's
    checkpoints, caches and raw logs."""
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"{folder} has no config.json: not a saved model folder")
    return sorted(
        path.relative_to(folder)
        for path in folder.rglob("*")
        if path.is_file()
        and path.relative_to(folder).parts[0] not in LOCAL_ONLY
        and not path.relative_to(folder).parts[0].startswith("checkpoint-")  # Trainer's checkpoints
        and "__pycache__" not in path.parts
    )


def card_for_repo(folder: str | os.PathLike, repo_id: str) -> bytes | None:
    """The folder's model card (``README.md``) with the repo id it was written for (its ``model-index`` name, also
    in its usage snippets) replaced by ``repo_id``; None without a card."""
    path = Path(folder) / "README.md"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    written_for = ModelCard(text).data.to_dict().get("model_name")
    if not written_for:  # no model-index: the card names its repo id in the usage snippets only
        match = re.search(r'model="([^"]+)"', text)
        written_for = match.group(1) if match else None
    return (text.replace(written_for, repo_id) if written_for else text).encode("utf-8")


def push_model_folder(
    folder: str | os.PathLike,
    repo_id: str,
    token: str | None = None,
    private: bool = False,
    commit_message: str = "Upload hfvid model",
    dry_run_dir: str | os.PathLike | None = None,
) -> str:
    """Upload the model folder to ``repo_id`` in a single commit; returns the commit URL, or, with
    ``dry_run_dir``, the folder holding exactly the files that would have been uploaded."""
    folder = Path(folder)
    files = files_to_upload(folder)
    card = card_for_repo(folder, repo_id)  # the card names the repo it is pushed to
    if dry_run_dir is not None:
        dry_run_dir = Path(dry_run_dir)
        if dry_run_dir.exists():
            shutil.rmtree(dry_run_dir)
        for relative in files:
            (dry_run_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(folder / relative, dry_run_dir / relative)
        if card is not None:
            (dry_run_dir / "README.md").write_bytes(card)
        return str(dry_run_dir)
    api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    operations = [
        CommitOperationAdd(
            path_in_repo=relative.as_posix(),
            path_or_fileobj=card if relative.as_posix() == "README.md" and card is not None else folder / relative,
        )
        for relative in files
    ]
    return api.create_commit(repo_id, operations=operations, commit_message=commit_message).commit_url


def push_report(result: str, dry_run: bool) -> str:
    """What a push did, in words: ``push_model_folder``'s result after a push or a dry run."""
    return f"dry run, nothing uploaded; the files a push would upload are in {result}" if dry_run else f"pushed: {result}"


def main(argv: list[str] | None = None) -> None:
    """``python -m hfvid.hub.push FOLDER REPO_ID [--private] [--dry_run DIR]``"""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m hfvid.hub.push", description=__doc__.splitlines()[0], formatter_class=HelpFormatter)
    parser.add_argument("folder", help="a saved model folder (e.g. outputs/<run>)")
    parser.add_argument("repo_id", help="the Hub repo to create or update, e.g. you/transrank-r3d18")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--token", default=None, help="defaults to HF_TOKEN or the saved login")
    parser.add_argument("--dry_run", dest="dry_run_dir", default=None, metavar="DIR", help="write the files to DIR instead of uploading")
    args = accept_dashes(parser).parse_args(argv)
    done = push_model_folder(args.folder, args.repo_id, token=args.token, private=args.private, dry_run_dir=args.dry_run_dir)
    print(push_report(done, dry_run=args.dry_run_dir is not None))


if __name__ == "__main__":
    main()
