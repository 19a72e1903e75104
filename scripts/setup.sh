#!/usr/bin/env bash
# Install hfvid with everything it needs on a fresh Debian machine (run as root):
# Debian's ffmpeg (torchcodec decodes with it) and the tested Python set pinned in constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v ffmpeg >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev]"
