#!/usr/bin/env bash
# The release's way from the tarballs to the registry, run here on every test run (scripts/test.sh):
#
# 1. packs this machine's packages into OUTDIR (scripts/npm-pack.sh: the main package and this
#    platform's, with the static binary);
# 2. makes the packages of the other platforms with the step the release workflow runs on their
#    runners (scripts/npm-platform-package.sh), from stand-in binaries: files holding only the
#    executable header of their target, which is what npm/pack.js checks;
# 3. runs the publish job's command, `scripts/publish.sh --dry-run DIR`, from OUTDIR's parent with
#    DIR as the one-segment relative name the workflow passes (`dist` there), against an empty npm
#    registry on 127.0.0.1 (every package is then unpublished, and nothing leaves this machine).
#
#   scripts/release-dry-run.sh OUTDIR      OUTDIR is emptied first; it ends up holding all five
#                                          tarballs (the interop tests install them)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: scripts/release-dry-run.sh OUTDIR"
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
rm -rf "${OUT:?}"/*
"$ROOT/scripts/npm-pack.sh" "$OUT" >/dev/null

STANDINS=$(mktemp -d)
REGISTRY_PID=
cleanup() {
    [ -z "$REGISTRY_PID" ] || kill "$REGISTRY_PID" 2>/dev/null || true
    rm -rf "$STANDINS"
}
trap cleanup EXIT

HERE=$(basename "$(dirname "$(dirname "$("$ROOT/scripts/build-static.sh")")")")
for TRIPLE in $(node -e 'for (const p of require(process.argv[1])) console.log(p.triple)' "$ROOT/npm/platforms.json"); do
    [ "$TRIPLE" != "$HERE" ] || continue
    node -e '
        const [triple, file] = process.argv.slice(1);
        const b = Buffer.alloc(64);
        if (triple.endsWith("-linux-musl")) {
            b.writeUInt32BE(0x7f454c46, 0);           // ELF, 64-bit, little-endian, executable
            b[4] = 2; b[5] = 1; b[6] = 1;
            b.writeUInt16LE(2, 16);
            b.writeUInt16LE(triple.startsWith("aarch64") ? 0xb7 : 0x3e, 18);
            b.writeBigUInt64LE(64n, 32);              // no program header: no PT_INTERP
            b.writeUInt16LE(56, 54);
        } else {
            b.writeUInt32LE(0xfeedfacf, 0);           // Mach-O, 64-bit
            b.writeUInt32LE(triple.startsWith("aarch64") ? 0x0100000c : 0x01000007, 4);
            b.writeUInt32LE(2, 12);
        }
        require("fs").writeFileSync(file, b, { mode: 0o755 });
    ' "$TRIPLE" "$STANDINS/$TRIPLE"
    "$ROOT/scripts/npm-platform-package.sh" "$TRIPLE" "$STANDINS/$TRIPLE" "$OUT" >/dev/null
done

# An empty registry: `npm view` gets 404 for every package, as before a first release.
node -e '
    const server = require("http").createServer((req, res) => {
        res.writeHead(404, { "content-type": "application/json" });
        res.end("{\"error\":\"not found\"}");
    });
    server.listen(0, "127.0.0.1", () => require("fs").writeFileSync(process.argv[1], `${server.address().port}`));
' "$STANDINS/port" &
REGISTRY_PID=$!
for _ in $(seq 100); do [ -s "$STANDINS/port" ] && break; sleep 0.05; done
[ -s "$STANDINS/port" ] || die "the stand-in registry did not start"

cd "$(dirname "$OUT")"
npm_config_registry="http://127.0.0.1:$(cat "$STANDINS/port")/" npm_config_cache="$STANDINS/npm-cache" \
    npm_config_update_notifier=false "$ROOT/scripts/publish.sh" --dry-run "$(basename "$OUT")"
