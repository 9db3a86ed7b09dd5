#!/usr/bin/env bash
# Turns a built binary into the npm package of its platform, as an `npm pack` tarball in OUTDIR,
# and prints the tarball's path on stdout. The same step on every platform: scripts/npm-pack.sh
# runs it here, the release workflow (.github/workflows/release.yml) on each platform's runner.
#
#   scripts/npm-platform-package.sh TRIPLE BINARY OUTDIR
#   scripts/npm-platform-package.sh x86_64-unknown-linux-musl target/x86_64-unknown-linux-musl/release/vercel-oidc dist
#
# TRIPLE is one of npm/platforms.json (it names the package, its `os` and `cpu`); the version is
# Cargo.toml's. BINARY is checked to be an executable of that target (static, for Linux).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[ $# -eq 3 ] || die "usage: scripts/npm-platform-package.sh TRIPLE BINARY OUTDIR"
command -v node >/dev/null || die "node and npm are needed to pack; install Node.js 18 or later"
exec node "$ROOT/npm/pack.js" platform "$@"
