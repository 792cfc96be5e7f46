#!/usr/bin/env bash
# Install everything the tests need (Python packages, Debian's Chromium for the browser test), then run them.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet -r requirements-dev.txt
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: could not install chromium; the browser test will fail"
  else
    echo "warning: chromium is missing and this is not root; install Debian's chromium for the browser test"
  fi
fi
export HF_HUB_OFFLINE=1 GENAI_THREADS="${GENAI_THREADS:-2}" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
python -m pytest "$@"
