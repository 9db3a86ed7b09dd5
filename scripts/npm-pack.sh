#!/usr/bin/env bash
# Builds the static binary of this machine (scripts/build-static.sh) and writes the npm packages
# into OUTDIR as `npm pack` tarballs: the main package `vercel-oidc` (the launcher, listing every
# platform package as an optional dependency) and this machine's platform package. Nothing else is
# written to OUTDIR (created when missing). Prints the tarballs' paths on stdout, main first.
#
#   scripts/npm-pack.sh OUTDIR
#   npm install --offline OUTDIR/*.tgz     what a project does with them (or lists them as file:)
#
# One version everywhere: Cargo.toml's, stamped into every package.json at pack time.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: scripts/npm-pack.sh OUTDIR"
OUT=$1
command -v node >/dev/null || die "node and npm are needed to pack; install Node.js 18 or later"
BIN=$("$ROOT/scripts/build-static.sh")
TRIPLE=$(basename "$(dirname "$(dirname "$BIN")")")
node "$ROOT/npm/pack.js" main "$OUT"
"$ROOT/scripts/npm-platform-package.sh" "$TRIPLE" "$BIN" "$OUT"
