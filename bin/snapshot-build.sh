# bin/snapshot-build.sh NODE BUNDLE CACHE KEY: make the start-up snapshot (bin/launch.sh) in CACHE, once at a time
# (a lock with the builder's PID; a dead builder's lock is taken over), mode 0600 under a temporary name, checked
# by running it, then renamed into place with its key.
node=$1 bundle=$2 cache=$3 key=$4
umask 077
mkdir -p "$cache" || exit 1
lock=$cache/.lock
if ! (set -C && echo $$ >"$lock") 2>/dev/null; then
  pid=
  read -r pid <"$lock" 2>/dev/null
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && exit 0
  rm -f "$lock"
  (set -C && echo $$ >"$lock") 2>/dev/null || exit 0
fi
tmp=$cache/.tscrash.blob.$$
trap 'rm -f "$tmp" "$cache/.key.$$" "$lock"' EXIT
"$node" --snapshot-blob "$tmp" --build-snapshot "$bundle/snapshot.cjs" || exit 1
# A blob this node cannot start from (another V8 build, other CPU features) is not kept.
TSCRASH_BUNDLE=$bundle TSCRASH_ENTRY=tscrash "$node" --snapshot-blob "$tmp" -- --version | grep -q '^tscrash ' || exit 1
printf '%s\n' "$key" >"$cache/.key.$$" && mv -f "$tmp" "$cache/tscrash.blob" && mv -f "$cache/.key.$$" "$cache/key"
