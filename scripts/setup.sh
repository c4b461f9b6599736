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
npx tsc -p tsconfig.json
# The shipped form: one bundle per entry point (bin/ runs these).
node scripts/bundle.mjs
