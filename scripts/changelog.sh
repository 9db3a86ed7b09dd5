#!/usr/bin/env bash
# Prints the CHANGELOG.md section of VERSION (the lines under its `## VERSION` heading, up to the
# next `## ` heading, without the blank lines around them), or fails saying what to add. The
# release workflow refuses a version without one (scripts/publish.sh) and makes the section the
# notes of the GitHub release.
#
#   scripts/changelog.sh VERSION        VERSION as in Cargo.toml: 0.2.0, 0.2.0-rc.1
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: scripts/changelog.sh VERSION"
VERSION=$1
FILE="$ROOT/CHANGELOG.md"
[ -f "$FILE" ] || die "there is no CHANGELOG.md at the root of the repository; create it with a \`## $VERSION\` section"
NOTES=$(awk -v version="$VERSION" '
    /^## / { if (inside) exit; heading = substr($0, 4); sub(/ - [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$/, "", heading); inside = (heading == version); next }
    inside { print }
' "$FILE" | sed -e '/./,$!d' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}')
[ -n "$NOTES" ] || die "CHANGELOG.md has no entry for $VERSION: add a \`## $VERSION\` section saying what changed, above the previous release's"
printf '%s\n' "$NOTES"
