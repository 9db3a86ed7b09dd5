#!/usr/bin/env bash
# Every check, as CI runs it: formatting, lints, the Rust tests, then the interop tests, which run
# real clients (AWS CLI, boto3, google-auth, azure-identity, Node SDKs) against local mocks.
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

say "interop tests with real clients"
ensure_venv
ensure_node_modules
cargo build --locked --quiet
export VERCEL_OIDC_BIN="$ROOT/target/debug/vercel-oidc"
export VERCEL_OIDC_NODE_MODULES="$NODE_DIR/node_modules"
"$VENV/bin/python" -m pytest tests/interop -q -p no:cacheprovider "$@"
