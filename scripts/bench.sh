#!/usr/bin/env bash
# Prints vercel-oidc's figures from one run on this machine, each beside its target, for the
# binary that ships: the static release build of scripts/build-static.sh, and its npm packages.
#
#   - cache hit: median wall time of `aws credential-process` answered from the cache, beside
#     `cat` of the cache file (target: within 1.3x of cat);
#   - cold exchange (--no-cache) against a local STS, beside Vercel's
#     @vercel/oidc-aws-credentials-provider (pinned in tests/interop/node) against the same STS,
#     process start to credentials (target: at least 10x faster);
#   - 64 concurrent cold calls on a fresh cache: STS requests made (target: exactly 1), p50/p99;
#   - release binary size (target: under 10 MiB) and peak RSS (target: under 16 MiB);
#   - the npm package: the launcher's cost (`vercel-oidc --version` through npm's bin, beside the
#     native binary), and the size of each tarball scripts/npm-pack.sh writes;
#   - exec's credentials endpoint: answer latency p50/p99 over 1,000 requests, and an AWS CLI
#     call (`aws s3 presign`, which signs without a network call) with credentials from the
#     endpoint beside the same call with environment keys;
#   - exec and the Azure CLI: `exec --azure` with `az` on PATH, its login step on and off, and
#     without `az`; and what the login step adds to each `az` call once logged in (a stand-in
#     `az` that answers at once, so only exec's own part is measured: a real login is `az`'s
#     own time, about 2 s).
#
# A measurement, not a test: it exits 0 when a target is missed, and says so. Needs cargo,
# python3 and node/npm, and what scripts/build-static.sh needs (a C compiler for musl); uses
# hyperfine when it is on PATH. The measuring never needs root. Everything runs on 127.0.0.1 in a
# temporary folder, removed at the end with the stub STS.
#
#   scripts/bench.sh
#   BENCH_TIMER=python scripts/bench.sh    time with the Python loop even when hyperfine is there
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

command -v cargo >/dev/null || die "cargo is needed; install Rust from https://rustup.rs"
command -v node >/dev/null || die "node is needed for the peer measurement; install Node.js 20 or later"
BIN=$("$ROOT/scripts/build-static.sh")
ensure_venv
ensure_node_modules

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vercel-oidc-bench.XXXXXX")
STUB_PID=
cleanup() {
    if [ -n "$STUB_PID" ]; then
        kill "$STUB_PID" 2>/dev/null || true
        wait "$STUB_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$VENV/bin/python" "$ROOT/tests/interop/sts_stub.py" --port-file "$WORK/sts.port" &
STUB_PID=$!
for _ in $(seq 100); do
    [ -s "$WORK/sts.port" ] && break
    kill -0 "$STUB_PID" 2>/dev/null || die "the stub STS exited at start"
    sleep 0.05
done
[ -s "$WORK/sts.port" ] || die "the stub STS did not start within 5 s"

say "packing and installing the npm packages (offline, from the tarballs)"
"$ROOT/scripts/npm-pack.sh" "$WORK/npm" >/dev/null
mkdir "$WORK/site"
(
    cd "$WORK/site"
    printf '{"name": "bench-site", "private": true}\n' >package.json
    npm install --offline --no-audit --no-fund --loglevel=error --cache "$WORK/npm-cache" "$WORK"/npm/*.tgz >&2
) || die "npm could not install the tarballs"

say "measuring (a minute or two)"
cd "$WORK"  # out of the checkout, so no vercel-oidc.toml or .env.local of this folder is picked up
"$VENV/bin/python" "$ROOT/tests/interop/aws_bench.py" \
    --bin "$BIN" \
    --sts "http://127.0.0.1:$(cat "$WORK/sts.port")" \
    --node-modules "$NODE_DIR/node_modules" \
    --launcher "$WORK/site/node_modules/.bin/vercel-oidc" \
    --tarballs "$WORK/npm" \
    --aws-cli "$VENV/bin/aws" \
    --work "$WORK"
