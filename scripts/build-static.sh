#!/usr/bin/env bash
# Builds the release binary that ships (the one in the npm packages) and prints its path on stdout,
# nothing else.
#
#   scripts/build-static.sh                 for this machine (Linux x86_64: x86_64-unknown-linux-musl)
#   scripts/build-static.sh TRIPLE          one of the targets below, on a machine that can build it
#
#   x86_64-unknown-linux-musl   Linux x86_64, fully static (musl): no dynamic loader, no shared
#   aarch64-unknown-linux-musl  Linux arm64, the same        library, no NSS module, no CA file
#   x86_64-apple-darwin         macOS Intel, linked only against the system's libSystem (macOS
#   aarch64-apple-darwin        macOS Apple silicon          has no static libc), for macOS 11 or
#                                                            later (MACOSX_DEPLOYMENT_TARGET, checked)
#
# Reproducible from Cargo.lock and rust-toolchain.toml (the compiler, pinned): `cargo build
# --release --locked`, RUSTFLAGS and MACOSX_DEPLOYMENT_TARGET from this script only
# (the caller's are ignored), and the checkout, cargo home and target folder remapped out of the
# binary, so two checkouts of one commit with one toolchain give the same bytes. The Linux build is
# checked to have no PT_INTERP program header and no NEEDED entry, then run once.
#
# Installs what it needs when missing: the Rust target (`rustup target add`) and, for musl, a C
# compiler for musl (ring compiles C; Debian/Ubuntu's musl-tools via apt-get when run as root).
# CARGO_TARGET_DIR is honoured.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

host_triple() {
    case "$(uname -s)-$(uname -m)" in
        Linux-x86_64) echo x86_64-unknown-linux-musl ;;
        Linux-aarch64 | Linux-arm64) echo aarch64-unknown-linux-musl ;;
        Darwin-x86_64) echo x86_64-apple-darwin ;;
        Darwin-arm64) echo aarch64-apple-darwin ;;
        *) die "no release target for $(uname -s) $(uname -m); build from source with ./install.sh" ;;
    esac
}

[ $# -le 1 ] || die "usage: scripts/build-static.sh [TRIPLE]"
TRIPLE=${1:-$(host_triple)}
case "$TRIPLE" in
    x86_64-unknown-linux-musl | aarch64-unknown-linux-musl | x86_64-apple-darwin | aarch64-apple-darwin) ;;
    *) die "unknown target \`$TRIPLE\`; one of x86_64-unknown-linux-musl, aarch64-unknown-linux-musl, x86_64-apple-darwin, aarch64-apple-darwin" ;;
esac
command -v cargo >/dev/null || die "cargo is needed; install Rust from https://rustup.rs"

if command -v rustup >/dev/null; then
    if ! rustup target list --installed | grep -qx "$TRIPLE"; then
        say "adding the Rust target: rustup target add $TRIPLE"
        rustup target add "$TRIPLE" >&2 || die "rustup target add $TRIPLE failed"
    fi
elif [ ! -d "$(rustc --print sysroot)/lib/rustlib/$TRIPLE" ]; then
    die "the Rust standard library for \`$TRIPLE\` is not installed and there is no rustup to add it"
fi

TRIPLE_ENV=$(printf %s "$TRIPLE" | tr 'a-z-' 'A-Z_')
MACOS_MINIMUM=11.0
case "$TRIPLE" in
    *-linux-musl)
        ARCH=${TRIPLE%%-*}
        find_musl_cc() { command -v "$ARCH-linux-musl-gcc" || command -v musl-gcc || true; }
        MUSL_CC=$(find_musl_cc)
        if [ -z "$MUSL_CC" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            say "installing a C compiler for musl (ring builds C): apt-get install musl-tools"
            export DEBIAN_FRONTEND=noninteractive
            apt-get install -y -qq --no-install-recommends musl-tools >&2 \
                || { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends musl-tools >&2; } \
                || die "apt-get could not install musl-tools"
            MUSL_CC=$(find_musl_cc)
        fi
        [ -n "$MUSL_CC" ] || die "no C compiler for musl (\`$ARCH-linux-musl-gcc\` or \`musl-gcc\`) on PATH; on Debian or Ubuntu: sudo apt-get install musl-tools"
        export "CC_${TRIPLE//-/_}=$MUSL_CC"
        # The musl targets link statically by default; say so, so no configuration can undo it.
        FLAGS=(-C target-feature=+crt-static)
        ;;
    *-apple-darwin)
        FLAGS=()
        # The oldest macOS the binary runs on (the README says so): written into the binary
        # (LC_BUILD_VERSION's minos), so it is this script's, like RUSTFLAGS, not the caller's.
        export MACOSX_DEPLOYMENT_TARGET=$MACOS_MINIMUM
        ;;
esac

TARGET_DIR=$(cargo metadata --format-version 1 --no-deps --locked \
    | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
TARGET_DIR=${TARGET_DIR:-$ROOT/target}
CARGO_HOME_DIR=${CARGO_HOME:-$HOME/.cargo}
FLAGS+=(
    "--remap-path-prefix=$ROOT=/vercel-oidc"
    "--remap-path-prefix=$CARGO_HOME_DIR=/cargo"
    "--remap-path-prefix=$TARGET_DIR=/target"
)
# Only this script's flags: RUSTFLAGS or a target-specific variable from the caller would change
# the bytes. CARGO_ENCODED_RUSTFLAGS (unit separator between flags) keeps paths with spaces whole.
unset RUSTFLAGS "CARGO_TARGET_${TRIPLE_ENV}_RUSTFLAGS" CARGO_BUILD_RUSTFLAGS
CARGO_ENCODED_RUSTFLAGS=$(IFS=$'\x1f'; printf %s "${FLAGS[*]}")
export CARGO_ENCODED_RUSTFLAGS
# The C compiler's __DATE__ and __TIME__ (ring's C uses neither) from a constant: cc makes cargo
# rebuild when this variable changes, so a commit time here would rebuild on every commit.
export SOURCE_DATE_EPOCH=0

say "building: cargo build --release --locked --target $TRIPLE"
START=$SECONDS
cargo build --release --locked --target "$TRIPLE" --bin vercel-oidc >&2 \
    || die "cargo build failed (see above)"
BIN="$TARGET_DIR/$TRIPLE/release/vercel-oidc"
[ -x "$BIN" ] || die "the build succeeded but \`$BIN\` is missing"
say "built in $((SECONDS - START)) s: $BIN ($(wc -c <"$BIN") bytes)"

case "$TRIPLE" in
    *-linux-musl)
        command -v readelf >/dev/null || die "readelf (binutils) is needed to check the binary"
        if readelf -lW "$BIN" | grep -q 'INTERP'; then
            die "\`$BIN\` asks for a dynamic loader (PT_INTERP): it is not static"
        fi
        if readelf -dW "$BIN" | grep -q '(NEEDED)'; then
            die "\`$BIN\` needs shared libraries: $(readelf -dW "$BIN" | grep '(NEEDED)' | tr -s ' ' | tr '\n' ';')"
        fi
        ;;
    *-apple-darwin)
        if command -v otool >/dev/null; then
            OTHERS=$(otool -L "$BIN" | tail -n +2 | awk '{print $1}' | grep -v -e '^/usr/lib/' -e '^/System/' || true)
            [ -z "$OTHERS" ] || die "\`$BIN\` links libraries a Mac may not have: $OTHERS"
            MINOS=$(otool -l "$BIN" | awk '/LC_BUILD_VERSION/ { found = 1 } found && $1 == "minos" { print $2; exit }')
            [ "$MINOS" = "$MACOS_MINIMUM" ] || die "\`$BIN\` asks for macOS ${MINOS:-(unknown)}, not $MACOS_MINIMUM"
        fi
        ;;
esac

if [ "$TRIPLE" = "$(host_triple)" ]; then
    WANT="vercel-oidc $(cargo metadata --format-version 1 --no-deps --locked \
        | sed -n 's/.*"name":"vercel-oidc","version":"\([^"]*\)".*/\1/p')"
    GOT=$("$BIN" --version) || die "\`$BIN --version\` failed"
    [ "$GOT" = "$WANT" ] || die "\`$BIN --version\` printed \`$GOT\`, expected \`$WANT\`"
fi
printf '%s\n' "$BIN"
