#!/usr/bin/env bash
# Builds vercel-oidc (release) from this checkout and installs it as "$PREFIX/bin/vercel-oidc".
#
#   ./install.sh                      installs to ~/.local/bin (PREFIX defaults to ~/.local)
#   PREFIX=/usr/local ./install.sh    installs to /usr/local/bin
#
# Safe to run again: the new binary is copied next to the old one and renamed over it, so a tool
# that runs vercel-oidc meanwhile (the AWS CLI, Terraform) gets the old file or the new one, never
# half of one. Needs cargo (Rust 1.89 or later).
set -euo pipefail

NAME=vercel-oidc
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

say() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

if [ -z "${PREFIX:-}" ]; then
    [ -n "${HOME:-}" ] || die "HOME is not set, so there is no default install folder; set PREFIX (the binary goes to \$PREFIX/bin)"
    PREFIX="$HOME/.local"
fi
BIN_DIR="$PREFIX/bin"
DEST="$BIN_DIR/$NAME"

command -v cargo >/dev/null 2>&1 \
    || die "cargo was not found on PATH; install Rust 1.89 or later (https://rustup.rs), open a new shell, and run ./install.sh again"

cd "$ROOT"
say "building $NAME: cargo build --release --locked"
cargo build --release --locked || die "cargo build failed (see above); nothing was installed"

# Where cargo put it: CARGO_TARGET_DIR and build.target-dir in a cargo config can move it.
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps --locked \
    | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
BUILT="${TARGET_DIR:-$ROOT/target}/release/$NAME"
[ -x "$BUILT" ] || die "the build succeeded but \`$BUILT\` is missing; is CARGO_BUILD_TARGET set? unset it and run again"

mkdir -p "$BIN_DIR" || die "cannot create \`$BIN_DIR\`; choose another folder with PREFIX=..."
[ -w "$BIN_DIR" ] || die "\`$BIN_DIR\` is not writable by $(id -un); run as its owner or choose another folder with PREFIX=..."
STAGED=$(mktemp "$BIN_DIR/.$NAME.XXXXXX")
trap 'rm -f "$STAGED"' EXIT
cp "$BUILT" "$STAGED"
chmod 755 "$STAGED"
mv -f "$STAGED" "$DEST"
trap - EXIT

VERSION=$("$DEST" --version) || die "the installed \`$DEST\` does not run"
echo "installed $VERSION to $DEST"

case ":${PATH:-}:" in
    *":$BIN_DIR:"* | *":$BIN_DIR/:"*)
        FOUND=$(command -v "$NAME" || true)
        if [ -n "$FOUND" ] && [ "$FOUND" != "$DEST" ]; then
            warn "\`$FOUND\` comes first on PATH, so \`$NAME\` runs that one, not the one just installed"
        fi
        ;;
    *)
        warn "\`$BIN_DIR\` is not on PATH; add it (for bash: echo 'export PATH=\"$BIN_DIR:\$PATH\"' >> ~/.bashrc) or run \`$DEST\` by its full path"
        ;;
esac
