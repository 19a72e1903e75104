#!/usr/bin/env bash
# Install hfvid with everything it needs on a fresh Debian machine (run as root):
# Debian's ffmpeg (torchcodec decodes with it), Debian's chromium (the Space's browser tests drive it
# through playwright; never `playwright install`) and the tested Python set pinned in constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=()
command -v ffmpeg >/dev/null 2>&1 || packages+=(ffmpeg)
[ -x /usr/bin/chromium ] || packages+=(chromium)
if [ ${#packages[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev,space]"
