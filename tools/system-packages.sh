#!/usr/bin/env bash
# Install the Debian packages Charting needs, if any are missing: "test" for the offscreen
# test suite, "run" for opening the app on a screen (or on Xvfb when there is none),
# "postgres" for running the test suite against a throwaway PostgreSQL server as well.
set -euo pipefail

# fonts-wqy-microhei draws the Chinese characters of point names.
test_packages=(libegl1 libgl1 libfontconfig1 libxkbcommon0 libdbus-1-3 fonts-dejavu-core
  fonts-wqy-microhei qpdf poppler-utils)
run_packages=("${test_packages[@]}" libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0 libxcb-xkb1
  libxkbcommon-x11-0 xvfb xauth)

case "${1:-test}" in
  test) wanted=("${test_packages[@]}") ;;
  run) wanted=("${run_packages[@]}") ;;
  venv) wanted=(python3-venv) ;;
  # Debian's server binaries (initdb, pg_ctl) land in /usr/lib/postgresql/VERSION/bin;
  # tests/postgres.py finds them there and starts its own private cluster.
  postgres) wanted=(postgresql) ;;
  *) echo "usage: $0 test|run|venv|postgres" >&2; exit 2 ;;
esac

command -v dpkg-query >/dev/null 2>&1 || exit 0  # not Debian: the user installs Qt's libraries
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing system packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "Please install as root: apt-get install ${missing[*]}" >&2; exit 1
  fi
else
  SUDO=
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
