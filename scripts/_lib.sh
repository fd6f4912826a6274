# shellcheck shell=bash
# Shared by scripts/setup and scripts/test (sourced): Debian packages and the project's .venv.

say() { printf '==> %s\n' "$*"; }

# apt_install PACKAGE...: install the missing ones with apt-get (as root, or through sudo).
apt_install() {
  if ! command -v dpkg-query >/dev/null; then
    say "not a Debian/Ubuntu system: make sure these (or their equivalents) are installed: $*"
    return 0
  fi
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "Debian packages: all installed"
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "error: installing ${missing[*]} needs root: run this as root, or install sudo" >&2
      exit 1
    fi
    sudo=(sudo)
  fi
  say "installing Debian packages (first run only; this may take several minutes): ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
}

# venv_install PIP_ARGUMENT...: create .venv if needed and pip-install into it, unless the same
# arguments were installed already with this pyproject.toml (so re-runs are quick).
venv_install() {
  if [ ! -x .venv/bin/python ]; then
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
      echo "error: Python 3.10 or newer is needed (python3 is $(python3 -V 2>&1))" >&2
      exit 1
    }
    say "creating the virtual environment .venv"
    python3 -m venv --clear .venv
  fi
  local stamp
  stamp=".venv/.installed-$({ echo "$*"; cat pyproject.toml; } | sha256sum | cut -c1-16)"
  if [ -e "$stamp" ]; then
    say "Python packages in .venv: up to date"
    return 0
  fi
  say "installing Python packages into .venv (the first time takes a few minutes): $*"
  .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off "$@" </dev/null
  touch "$stamp"
}
