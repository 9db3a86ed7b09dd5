# Helpers shared by the scripts in this folder. Source it; do not run it.
#
# ensure_venv          creates .venv from tests/interop/requirements.txt (exact pins) and
#                      re-creates it when that file changes.
# ensure_node_modules  installs tests/interop/node's locked npm packages when missing or stale.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
NODE_DIR="$ROOT/tests/interop/node"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

hash_of() { sha256sum "$@" | sha256sum | cut -c1-16; }

ensure_venv() {
    local req="$ROOT/tests/interop/requirements.txt" stamp="$VENV/.requirements-hash" want
    command -v python3 >/dev/null || die "python3 is needed for the interop tests; install Python 3.9 or later"
    want=$(hash_of "$req")
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    say "creating the Python virtualenv in .venv (pinned in tests/interop/requirements.txt)"
    rm -rf "$VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed; on Debian install python3-venv"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$req" \
        || die "pip could not install tests/interop/requirements.txt"
    echo "$want" > "$stamp"
}

ensure_node_modules() {
    local stamp="$NODE_DIR/node_modules/.lock-hash" want
    command -v npm >/dev/null || die "node and npm are needed for the interop tests; install Node.js 20 or later"
    want=$(hash_of "$NODE_DIR/package-lock.json")
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    say "installing the pinned npm packages in tests/interop/node"
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed in tests/interop/node"
    echo "$want" > "$stamp"
}

# ensure_debian_packages CMD:PKG...  installs Debian package PKG (with apt-get, as root) when the
#                      command CMD is missing, e.g. `ensure_debian_packages az:azure-cli`; a
#                      package with no command is given as :PKG and checked with dpkg.
ensure_debian_packages() {
    local want=() spec cmd pkg
    for spec in "$@"; do
        cmd=${spec%%:*} pkg=${spec#*:}
        if [ -n "$cmd" ]; then
            command -v "$cmd" >/dev/null && continue
        else
            dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' && continue
        fi
        want+=("$pkg")
    done
    [ ${#want[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "the interop tests need the Debian packages ${want[*]}; install them"
    [ "$(id -u)" = 0 ] || die "the interop tests need the Debian packages ${want[*]}: run as root, or install them with sudo apt-get install ${want[*]}"
    say "installing the Debian packages ${want[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${want[@]}" >&2 \
        || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${want[@]}" >&2; } \
        || die "apt-get could not install ${want[*]}"
}
