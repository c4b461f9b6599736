#!/bin/sh
# The main job on a real sample: set-up, the sample cores (built when missing),
# then a tscrash session on the sysrq sample.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
node dist/samples/build.js
eval "$(node dist/samples/build.js --print-env sysrq)"
exec ./bin/tscrash "$TSCRASH_VMLINUX" "$TSCRASH_VMCORE" "$@"
