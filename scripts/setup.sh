#!/bin/sh
# Installs the npm dependencies (when package-lock.json changed) and builds the
# TypeScript into dist/. Shared by the README's commands.
set -eu
cd "$(dirname "$0")/.."
want=$(sha256sum package-lock.json | cut -d' ' -f1)
have=$(cat node_modules/.tscrash-lock-sha 2>/dev/null || true)
if [ "$want" != "$have" ]; then
  # Exactly what the lock file names (npm ci starts from an empty node_modules).
  npm ci --no-audit --no-fund
  echo "$want" > node_modules/.tscrash-lock-sha
fi
# The debuginfod tests' server and client: elfutils' debuginfod (its -U scan of .debs runs bsdtar) and
# debuginfod-find. Installed here, not only by the sample build, so that a machine with cached samples has them.
if ! command -v debuginfod >/dev/null 2>&1 || ! command -v debuginfod-find >/dev/null 2>&1 || ! command -v bsdtar >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends debuginfod libarchive-tools ||
      { apt-get update -q && apt-get install -y -q --no-install-recommends debuginfod libarchive-tools; }
  else
    echo "setup: debuginfod, debuginfod-find or bsdtar missing (apt-get install debuginfod libarchive-tools, as root)" >&2
  fi
fi
npx tsc -p tsconfig.json
# The shipped form: one bundle per entry point (bin/ runs these).
node scripts/bundle.mjs
