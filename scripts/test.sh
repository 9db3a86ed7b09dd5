#!/usr/bin/env bash
# Every check, as CI runs it: formatting, lints, the Rust tests, then the static release binary
# that ships (scripts/build-static.sh, once) and its npm packages (scripts/npm-pack.sh, into
# target/npm), the release's publish commands on every package (scripts/release-dry-run.sh: `npm
# publish --dry-run` as the release workflow runs it, into target/npm-release), then the interop
# tests against that binary: real clients (AWS CLI, boto3, google-auth, azure-identity, Node SDKs)
# against local mocks, the binary in an empty root, and the npm packages installed offline with
# npm, pnpm and Yarn into projects, one of which plays a Vercel build.
# First use creates .venv and installs npm packages, all pinned; later runs reuse them.
#
#   scripts/test.sh            everything
#   scripts/test.sh -k aws     only interop tests matching "aws" (after all Rust checks)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

command -v cargo >/dev/null || die "cargo is needed; install Rust from https://rustup.rs"

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
say "cargo test"
cargo test --locked

say "the static release binary and the npm packages"
START=$SECONDS
STATIC_BIN=$(scripts/build-static.sh)
say "static release build: $((SECONDS - START)) s"
NPM_OUT="${CARGO_TARGET_DIR:-$ROOT/target}/npm"
rm -rf "$NPM_OUT"
scripts/npm-pack.sh "$NPM_OUT" >/dev/null  # the build above is fresh: cargo does nothing again
say "the release: every package packed, checked and published with --dry-run, as the workflow does"
RELEASE_OUT="${CARGO_TARGET_DIR:-$ROOT/target}/npm-release"
scripts/release-dry-run.sh "$RELEASE_OUT"

say "interop tests with real clients, against the static binary"
ensure_venv
ensure_node_modules
ensure_debian_packages az:azure-cli go:golang-go :golang-github-aws-aws-sdk-go-v2-dev
export VERCEL_OIDC_BIN="$STATIC_BIN" VERCEL_OIDC_STATIC_BIN="$STATIC_BIN" VERCEL_OIDC_NPM_DIR="$NPM_OUT"
export VERCEL_OIDC_RELEASE_DIR="$RELEASE_OUT"
export VERCEL_OIDC_NODE_MODULES="$NODE_DIR/node_modules"
"$VENV/bin/python" -m pytest tests/interop -q -p no:cacheprovider "$@"
