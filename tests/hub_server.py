"""A real Hugging Face Hub on localhost for download tests, served by `olah` from local git repositories.

`serve_local_hub` commits each folder to its own git repository and starts `olah` on it. olah serves
"mirrors" straight from git: a repository at `<mirrors-path>/models/<org>/<name>` (an ordinary git repo on
branch `main`) answers the Hub API (`/api/models/<id>/revision/<rev>`, `/tree/...`) and `/resolve/`
downloads. Files are served as plain git blobs, so weights need no git LFS. olah runs with
`[accessibility] offline = true`, so it never contacts an upstream Hub (its `hf-netloc` also points at a
local port that refuses connections). Downloads of a few MB take well under a second.

Pointing clients at the server (huggingface_hub 2.4.0 reads `HF_ENDPOINT`, `HF_HOME`, ... into module
constants at import time, so setting the environment variables afterwards has no effect in-process):

- Subprocess (most faithful, exactly what a user sees): run the client with `env=hub_env(endpoint, hf_home)`.
- In-process: `use_local_hub(monkeypatch, endpoint, hf_home)` patches the `huggingface_hub.constants` the
  download code reads at call time, plus the endpoint of the module-level `HfApi` behind the top-level
  functions (`huggingface_hub.model_info`, ...). This works for `hf_hub_download`, `snapshot_download` and
  transformers' `from_pretrained`; only values copied elsewhere at import time (e.g. transformers'
  `HF_MODULES_CACHE` for remote code) are not redirected.

Missing files: olah 0.5.4's mirror answers a missing file of an existing repo with 401 `RepoNotFound` (it
falls through to its upstream path), where the Hub answers 404 `EntryNotFound`. transformers probes optional
files (`processor_config.json`, `preprocessor_config.json`, ...) and treats `RepoNotFound` as fatal, so
`serve_local_hub` puts a small pass-through proxy in front of olah that turns exactly that answer, for the
`/resolve/` URL of a repo it serves, into the Hub's 404 `EntryNotFound`. Everything else is olah's answer.

Limits of olah's offline mirror mode (olah 0.5.4):
- Revisions are whatever git resolves in the repo: `serve_local_hub` commits everything on `main`; a commit
  hash, or a branch/tag later added to `<tmp_dir>/mirrors/models/<repo_id>`, is served too (read live).
- A missing repository or revision answers 401 `RepoNotFound`, which huggingface_hub raises as
  `RepositoryNotFoundError` (the real Hub gives `RevisionNotFoundError` for a revision).
- Dataset repositories (`datasets/<org>/<name>` ids) are served like models; `hf://datasets/...` paths
  (`HfFileSystem`, as `datasets` opens them) need the revision spelled out (`hf://datasets/<id>@main/...`),
  for the reason below.
- `/api/models/<id>` without a revision answers 401 (olah only resolves the latest commit from its upstream
  cache), so call `HfApi().model_info(repo_id, revision="main")`; downloads always pass a revision.
- A non-UTF-8 file of 121-149 bytes gets HTTP 500 (olah decodes files of that size as possible LFS
  pointers); huggingface_hub then retries for ~20 s and fails. Real LFS pointers are served from `.git/lfs`.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

START_TIMEOUT_S = 30.0

# Variables that would bypass the server or the fresh cache: offline mode, other caches, the user's token.
_BYPASSING_ENV = (
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "HF_XET_CACHE",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_TOKEN_PATH",
)

_GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,  # no user hooks, LFS filters or signing: files are committed as-is
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "hfvid-tests",
    "GIT_AUTHOR_EMAIL": "hfvid-tests@localhost",
    "GIT_COMMITTER_NAME": "hfvid-tests",
    "GIT_COMMITTER_EMAIL": "hfvid-tests@localhost",
}


def _free_port() -> int:
    """A port that is free right now on 127.0.0.1 (the OS picks it)."""
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _git_repo(folder: Path, dest: Path) -> None:
    """Copy `folder` to `dest` and commit all its files on branch `main`."""
    shutil.copytree(folder, dest, ignore=shutil.ignore_patterns(".git"))
    env = {**os.environ, **_GIT_ENV}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "Add files"]):
        subprocess.run(["git", *args], cwd=dest, env=env, check=True, capture_output=True)


def _get(url: str) -> int:
    """HTTP status of a GET to `url` (no proxies: the server is on loopback)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server's process group: SIGTERM, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextmanager
def serve_local_hub(repos: Mapping[str, str | Path], tmp_dir: Path, port: int | None = None) -> Iterator[str]:
    """Serve each `repo_id -> folder` from a real `olah` server; yield its endpoint URL. A repo id is a model's
    (`org/name`), or a dataset's with the Hub's URL prefix (`datasets/org/name`).

    The folders are copied and committed to git repos under `tmp_dir`, which also holds the server's
    config, cache and logs (`olah-server.log`). Raises `RuntimeError` with the log tail if the server does
    not serve every repo within `START_TIMEOUT_S`. The server is stopped on exit.
    """
    tmp_dir = Path(tmp_dir)
    mirrors = tmp_dir / "mirrors"
    if not repos:
        raise ValueError("serve_local_hub needs at least one repo")
    for repo_id, folder in repos.items():
        if _split(repo_id)[1].count("/") > 1:
            raise ValueError(f"repo_id must be 'name', 'org/name' or 'datasets/org/name', got {repo_id!r}")
        _git_repo(Path(folder), mirrors / _split(repo_id)[0] / _split(repo_id)[1])

    port = port or _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    # A bound but never listening socket: any upstream request olah might still make is refused at once.
    with closing(socket.socket()) as upstream:
        upstream.bind(("127.0.0.1", 0))
        upstream_netloc = f"127.0.0.1:{upstream.getsockname()[1]}"
        config = tmp_dir / "olah.toml"
        quoted = json.dumps  # a JSON string is a valid TOML basic string
        config.write_text(
            "[basic]\n"
            f'host = "127.0.0.1"\nport = {port}\n'
            f"repos-path = {quoted(str(tmp_dir / 'olah-cache'))}\n"
            f"mirrors-path = [{quoted(str(mirrors))}]\n"
            f'hf-scheme = "http"\nhf-netloc = "{upstream_netloc}"\nhf-lfs-netloc = "{upstream_netloc}"\n'
            "[accessibility]\noffline = true\n"
        )
        log_path = tmp_dir / "olah-server.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "olah.server", "-c", str(config), "--log-path", str(tmp_dir / "olah-logs")],
                cwd=tmp_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so _stop reaches any children
            )
        try:
            _wait_until_serving(proc, endpoint, list(repos), log_path)
            with _entry_not_found_proxy(port, list(repos)) as proxy_endpoint:
                yield proxy_endpoint
        finally:
            _stop(proc)


def _split(repo_id: str) -> tuple[str, str]:
    """("models" or "datasets", the id without the prefix)."""
    return ("datasets", repo_id.removeprefix("datasets/")) if repo_id.startswith("datasets/") else ("models", repo_id)


@contextmanager
def _entry_not_found_proxy(olah_port: int, repo_ids: list[str]) -> Iterator[str]:
    """Forward every request to olah unchanged, except olah's 401 `RepoNotFound` for a missing file of a
    served repo, which becomes the Hub's 404 `EntryNotFound` (see the module docstring)."""
    resolve_prefixes = tuple(f"/{repo_id}/resolve/" for repo_id in repo_ids)

    class Handler(BaseHTTPRequestHandler):
        def _forward(self):
            connection = http.client.HTTPConnection("127.0.0.1", olah_port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            sent = self.rfile.read(int(self.headers.get("Content-Length") or 0)) or None  # a POST's body
            connection.request(self.command, self.path, body=sent, headers=headers)
            response = connection.getresponse()
            body = response.read()
            status, reply_headers = response.status, response.getheaders()
            connection.close()
            if status == 401 and response.getheader("x-error-code") == "RepoNotFound" and self.path.startswith(resolve_prefixes):
                status, body = 404, b'{"error": "Entry not found"}'
                reply_headers = [("Content-Type", "application/json"), ("x-error-code", "EntryNotFound")]
            self.send_response(status)
            for key, value in reply_headers:
                if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                    self.send_header(key, value)
            # A HEAD answer announces the size of the body a GET would get.
            length = response.getheader("content-length") if self.command == "HEAD" and status < 400 else len(body)
            self.send_header("Content-Length", str(length or 0))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = do_POST = _forward

        def log_message(self, *args):  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _wait_until_serving(proc: subprocess.Popen, endpoint: str, repo_ids: list[str], log_path: Path) -> None:
    """Poll until the server serves every repo at `main`, or raise with the log tail."""
    urls = [f"{endpoint}/api/{_split(repo_id)[0]}/{_split(repo_id)[1]}/revision/main" for repo_id in repo_ids]
    deadline = time.monotonic() + START_TIMEOUT_S
    status = None
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            status = [_get(url) for url in urls]
        except OSError as err:  # not listening yet
            status = repr(err)
        if status == [200] * len(urls):
            return
        time.sleep(0.1)
    log_tail = log_path.read_text(errors="replace")[-4000:]
    raise RuntimeError(
        f"olah did not serve {repo_ids} at {endpoint} (exit code {proc.poll()}, last statuses {status}):\n{log_tail}"
    )


def _env_overrides(endpoint: str, hf_home: str | Path) -> dict[str, str]:
    """Variables that point huggingface_hub at `endpoint` with a fresh cache in `hf_home`."""
    no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1,localhost"]))
    return {
        "HF_ENDPOINT": endpoint,
        "HF_HOME": str(hf_home),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
    }


def hub_env(endpoint: str, hf_home: str | Path) -> dict[str, str]:
    """Full environment for a subprocess that downloads from `endpoint` into a fresh `hf_home`."""
    env = {key: value for key, value in os.environ.items() if key not in _BYPASSING_ENV}
    env.update(_env_overrides(endpoint, hf_home))
    return env


def use_local_hub(monkeypatch, endpoint: str, hf_home: str | Path) -> None:
    """In-process equivalent of `hub_env`, via pytest's `monkeypatch` (undone after the test)."""
    from huggingface_hub import constants, hf_api

    hf_home = str(hf_home)
    for key, value in _env_overrides(endpoint, hf_home).items():
        monkeypatch.setenv(key, value)
    for key in _BYPASSING_ENV:
        monkeypatch.delenv(key, raising=False)
    patched = {
        "ENDPOINT": endpoint,
        "HUGGINGFACE_CO_URL_TEMPLATE": endpoint + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_HOME": hf_home,
        "HF_HUB_CACHE": os.path.join(hf_home, "hub"),
        "HF_ASSETS_CACHE": os.path.join(hf_home, "assets"),
        "HF_XET_CACHE": os.path.join(hf_home, "xet"),
        "HF_TOKEN_PATH": os.path.join(hf_home, "token"),
        "HF_STORED_TOKENS_PATH": os.path.join(hf_home, "stored_tokens"),
        "HF_HUB_OFFLINE": False,
        "HF_HUB_DISABLE_TELEMETRY": True,
    }
    for name, value in patched.items():
        monkeypatch.setattr(constants, name, value)
    monkeypatch.setattr(hf_api.api, "endpoint", endpoint)
