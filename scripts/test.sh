#!/bin/sh
# The whole test suite: set-up, the real sample cores (built when missing or
# invalid), then every test file under test/ with node's test runner.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
npx tsc -p tsconfig.test.json
node dist/samples/build.js
# shellcheck disable=SC2046
exec node --import tsx --test --test-reporter=spec $(find test -name '*.test.ts' | sort)
