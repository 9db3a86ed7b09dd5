#!/usr/bin/env bash
# Publishes the npm tarballs of a release, in the order that never leaves the main package naming
# an optional dependency the registry does not have. The publish job of
# .github/workflows/release.yml runs it; scripts/release-dry-run.sh runs it with --dry-run on every
# test run (scripts/test.sh), so the commands that publish are the commands CI runs.
#
#   scripts/publish.sh [--dry-run] DIR
#
# 1. CHANGELOG.md has a section for Cargo.toml's version (scripts/changelog.sh).
# 2. In GitHub Actions (GITHUB_ACTIONS=true): the tag is v<version> (GITHUB_REF_NAME), and
#    Cargo.toml's repository is the repository the workflow runs in (GITHUB_REPOSITORY), which
#    npm's provenance requires of every package.
# 3. `node npm/pack.js check DIR`: one tarball of each package, all of that version, repository and
#    license files; their absolute paths, platforms first, the main package last.
# 4. For each, unless the registry already has that version (`npm view`; so a rerun after a partial
#    failure goes on where it stopped; any answer other than "not found" stops it):
#
#      npm publish TARBALL --access public --tag TAG --provenance [--dry-run]
#
#    TAG is `latest` for a release and `next` for a prerelease (0.2.0-rc.1), so that
#    `npm i vercel-oidc` never installs a prerelease. Each publish must end with npm's
#    `+ NAME@VERSION` line.
#
# The registry is npm's own setting (npm_config_registry). Credentials are npm's too: the workflow
# sets a granular token (the secret NPM_TOKEN) as npm's auth token for the first release, and
# gives GitHub's OIDC token to npm's trusted publishing after it (npm 11.5.1 or later, checked
# here); the script never reads them.
# `--provenance` needs GitHub Actions' OIDC token, so outside the workflow only --dry-run works.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DRY_RUN=()
if [ "${1:-}" = "--dry-run" ]; then
    DRY_RUN=(--dry-run)
    shift
fi
[ $# -eq 1 ] || die "usage: scripts/publish.sh [--dry-run] DIR"
DIR=$1
[ -d "$DIR" ] || die "\`$DIR\` is not a folder of npm tarballs"
command -v npm >/dev/null || die "npm is needed to publish; install Node.js 22 or later with npm 11.5.1 or later"

VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n 1)
[ -n "$VERSION" ] || die "no version in Cargo.toml"
"$ROOT/scripts/changelog.sh" "$VERSION" >/dev/null

if [ "${GITHUB_ACTIONS:-}" = true ]; then
    [ "${GITHUB_REF_NAME:-}" = "v$VERSION" ] \
        || die "the tag is \`${GITHUB_REF_NAME:-}\`, but Cargo.toml's version is $VERSION: tag the commit v$VERSION"
    REPOSITORY=$(sed -n 's/^repository = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n 1)
    [ "$REPOSITORY" = "https://github.com/${GITHUB_REPOSITORY:-}" ] \
        || die "Cargo.toml's repository is \`$REPOSITORY\`, but this workflow runs in https://github.com/${GITHUB_REPOSITORY:-}; npm's provenance refuses a package whose repository differs: set repository in Cargo.toml's [package]"
fi

if [ ${#DRY_RUN[@]} -eq 0 ]; then
    NPM_VERSION=$(npm --version)
    printf '%s\n11.5.1\n' "$NPM_VERSION" | sort -C -V -r \
        || die "npm $NPM_VERSION cannot publish through trusted publishing; it needs npm 11.5.1 or later (npm install -g npm@11)"
fi

case "$VERSION" in
    *-*) TAG=next ;;
    *) TAG=latest ;;
esac

ORDER=$(node "$ROOT/npm/pack.js" check "$DIR")
VIEW_LOG=$(mktemp)
trap 'rm -f "$VIEW_LOG"' EXIT
say "publishing $VERSION under the dist-tag \`$TAG\`${DRY_RUN:+ (dry run)}"
while read -r TARBALL; do
    SPEC=$(tar -xOzf "$TARBALL" package/package.json \
        | node -e 'const p = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(`${p.name}@${p.version}`)')
    # Published only when the registry names this very version (an older npm says nothing and
    # exits 0 for a version it does not have).
    VIEWED=0
    SEEN=$(npm view "$SPEC" version </dev/null 2>"$VIEW_LOG") && VIEWED=1
    if [ "$VIEWED" = 1 ] && [ "$SEEN" = "${SPEC##*@}" ]; then
        say "$SPEC is already on the registry: skipped"
        continue
    fi
    VIEW_ERR=$(cat "$VIEW_LOG")
    case "$VIEW_ERR" in
        *E404* | "") ;;
        *) die "could not ask the registry whether $SPEC is published (npm view $SPEC):"$'\n'"$VIEW_ERR" ;;
    esac
    say "npm publish $TARBALL --access public --tag $TAG --provenance ${DRY_RUN[*]:-}"
    OUT=$(npm publish "$TARBALL" --access public --tag "$TAG" --provenance "${DRY_RUN[@]}" </dev/null) \
        || die "npm publish of $SPEC failed (see above)"
    LAST=$(printf '%s\n' "$OUT" | tail -n 1)
    [ "$LAST" = "+ $SPEC" ] || die "npm publish of $SPEC ended with \`$LAST\`, not \`+ $SPEC\`"
    printf '%s\n' "$LAST"
done <<<"$ORDER"
