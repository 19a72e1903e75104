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
# transformers' own common test mixins (tests/test_transformers_common.py) for the pinned transformers: three
# top-level files of its PyPI sdist, cached in .cache/transformers-tests/<version>/ (git-ignored), fetched once.
tf_version=$(sed -n 's/^transformers==//p' constraints.txt)
tf_tests=".cache/transformers-tests/$tf_version"
tf_files=(test_modeling_common.py test_configuration_common.py test_video_processing_common.py)
if [ ! -f "$tf_tests/${tf_files[-1]}" ]; then
    tf_tmp=$(mktemp -d)
    python3 -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: -d "$tf_tmp" \
        "transformers==$tf_version"
    mkdir -p "$tf_tmp/tests" .cache/transformers-tests
    tar --no-same-owner -xzf "$tf_tmp/transformers-$tf_version.tar.gz" -C "$tf_tmp/tests" --strip-components=2 \
        "${tf_files[@]/#/transformers-$tf_version/tests/}"
    rm -rf "$tf_tests" && mv "$tf_tmp/tests" "$tf_tests" && rm -rf "$tf_tmp"
fi
# `accelerate launch` warns about every setting it defaults when no Accelerate config exists: write accelerate's own
# basic one (its processes from the GPUs it finds, no mixed precision), as `accelerate config default` does; an
# existing config is kept. On CPU it still says once how many threads it gives each process.
python3 -c "
import os
from accelerate.commands.config.config_args import default_config_file
from accelerate.utils import write_basic_config
if not os.path.isfile(default_config_file) and write_basic_config(mixed_precision='no'):
    print('wrote a basic Accelerate config (as accelerate config default does):', default_config_file)
"
