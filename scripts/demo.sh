#!/usr/bin/env bash
# vercel-oidc end to end, on a machine with no cloud account and no Vercel project:
#
#   1. mint a Vercel-shaped OIDC token, signed with a throwaway key that is never written down;
#   2. start moto's server on 127.0.0.1 as the AWS account (STS and S3), with a role to assume and
#      request authentication on, so only the temporary credentials STS issues get through;
#   3. `vercel-oidc aws configure` writes a profile whose credential_process is vercel-oidc;
#   4. the AWS CLI uses that profile: sts get-caller-identity, s3 mb, s3 ls.
#
# Everything happens in a temporary HOME, cache and AWS config, removed at the end with the moto
# server: your own ~/.aws and caches are never read or written. The first run creates .venv
# (pinned Python packages: moto, awscli, pyjwt) and builds vercel-oidc if needed.
#
#   scripts/demo.sh
#   VERCEL_OIDC_BIN=/path/to/vercel-oidc scripts/demo.sh    use that binary instead of building
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

PROFILE=vercel-demo
ROLE=vercel-demo-deploy
BUCKET=vercel-oidc-demo

ensure_venv
PY="$VENV/bin/python"
if [ -n "${VERCEL_OIDC_BIN:-}" ]; then
    BIN=$VERCEL_OIDC_BIN
else
    command -v cargo >/dev/null || die "cargo is needed to build vercel-oidc; install Rust from https://rustup.rs (or set VERCEL_OIDC_BIN)"
    say "building vercel-oidc (cargo build --locked)"
    cargo build --locked --quiet
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/vercel-oidc"
fi
[ -x "$BIN" ] || die "no vercel-oidc binary at \`$BIN\`"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vercel-oidc-demo.XXXXXX")
MOTO_PID=
cleanup() {
    if [ -n "$MOTO_PID" ]; then
        kill "$MOTO_PID" 2>/dev/null || true
        wait "$MOTO_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A private world: drop every AWS and Vercel setting of the caller, then point HOME, the cache and
# the AWS config into the temporary folder.
while read -r name; do
    case "$name" in AWS_* | VERCEL_*) unset "$name" ;; esac
done < <(compgen -e)
export HOME="$WORK/home" XDG_CACHE_HOME="$WORK/cache"
export AWS_CONFIG_FILE="$HOME/.aws/config" AWS_SHARED_CREDENTIALS_FILE="$HOME/.aws/credentials"
export PATH="$(dirname "$BIN"):$VENV/bin:$PATH"
mkdir -p "$HOME"
# Out of the checkout, so no vercel-oidc.toml or .env.local of this folder is picked up.
cd "$WORK"

if [ -t 1 ]; then
    step() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
    step() { printf '\n%s\n' "$*"; }
fi
show() { printf '$ %s\n' "$*"; "$@"; }

step "1. A Vercel OIDC token (team acme, project web, production), signed with a throwaway key"
VERCEL_OIDC_TOKEN=$("$PY" - <<'EOF'
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
now = int(time.time())
claims = {
    "iss": "https://oidc.vercel.com/acme",
    "sub": "owner:acme:project:web:environment:production",
    "aud": "https://vercel.com/acme",
    "iat": now, "nbf": now, "exp": now + 3600,
    "owner": "acme", "owner_id": "team_demo", "project": "web", "project_id": "prj_demo",
    "environment": "production",
}
print(jwt.encode(claims, key, algorithm="RS256", headers={"kid": "demo"}))
EOF
)
export VERCEL_OIDC_TOKEN
show vercel-oidc token

step "2. moto's server on 127.0.0.1 as STS and S3, with role $ROLE and request authentication on"
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
# One unsigned request is let through (the AssumeRoleWithWebIdentity call); every later request
# must be signed with the credentials STS issued.
ROLE_ARN=$("$PY" "$ROOT/tests/interop/aws_moto.py" setup "http://127.0.0.1:$PORT" "$ROLE" 1)
echo "role: $ROLE_ARN"
# With a real account, leave this out: the AWS CLI and vercel-oidc then use AWS's endpoints.
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
echo "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"

step "3. A profile that runs vercel-oidc as its credential_process"
show vercel-oidc aws configure --profile "$PROFILE" --role-arn "$ROLE_ARN" --region us-east-1
show cat "$AWS_CONFIG_FILE"

step "4. The AWS CLI through that profile"
show aws sts get-caller-identity --profile "$PROFILE" --output json
show aws s3 mb "s3://$BUCKET" --profile "$PROFILE"
show aws s3 ls --profile "$PROFILE"

step "What happened"
SESSIONS=$("$PY" "$ROOT/tests/interop/aws_moto.py" sessions "$AWS_ENDPOINT_URL")
echo "AssumeRoleWithWebIdentity calls moto answered: $(printf '%s\n' "$SESSIONS" | grep -c .)"
printf '  %s\n' "$SESSIONS"
echo "for three AWS CLI commands: the later ones were served from vercel-oidc's cache:"
ls -ld "$XDG_CACHE_HOME/vercel-oidc" "$XDG_CACHE_HOME"/vercel-oidc/*
printf '\nand made-up keys are refused, since moto checks every signature:\n'
if AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \
    aws s3 ls --region us-east-1 2>&1; then
    die "moto accepted made-up keys: request authentication is not on"
fi
printf '\ndone; removing %s and stopping moto\n' "$WORK"
