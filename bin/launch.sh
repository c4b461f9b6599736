# Sourced by bin/tscrash and bin/tsmakedumpfile, with $root (the package's directory) and $entry (the command).
# Runs the command from the V8 start-up snapshot of this package made for this node binary on this host, when
# there is one newer than both (no module to load: start-up time, issue 16); else from the bundle, and then has
# bin/snapshot-build.sh make the snapshot in the background for the next run. TSCRASH_SNAPSHOT=0: never;
# TSCRASH_LAUNCH_TRACE=1 says on stderr which one runs.
bundle=$root/dist/bundle
node=$(command -v node) || {
  echo "$entry: node is not on PATH" >&2
  exit 127
}
# NODE_OPTIONS may carry V8 flags, and a snapshot starts only under the flags it was made with: then the bundle.
if [ "${TSCRASH_SNAPSHOT:-1}" != 0 ] && [ -z "${NODE_OPTIONS:-}" ] && [ -f "$bundle/snapshot.cjs" ] && [ -n "${XDG_CACHE_HOME:-$HOME}" ]; then
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/tscrash/snapshot
  host=
  read -r host </proc/sys/kernel/hostname 2>/dev/null
  key="$node $bundle $host"
  saved=
  [ -r "$cache/key" ] && read -r saved <"$cache/key"
  if [ "$saved" = "$key" ] && [ "$cache/tscrash.blob" -nt "$node" ] && [ "$cache/tscrash.blob" -nt "$bundle/snapshot.cjs" ]; then
    [ -n "${TSCRASH_LAUNCH_TRACE:-}" ] && echo "$entry: from the start-up snapshot $cache/tscrash.blob" >&2
    TSCRASH_BUNDLE=$bundle TSCRASH_ENTRY=$entry exec "$node" --snapshot-blob "$cache/tscrash.blob" -- "$@"
  fi
  sh "$root/bin/snapshot-build.sh" "$node" "$bundle" "$cache" "$key" </dev/null >/dev/null 2>&1 &
fi
[ -n "${TSCRASH_LAUNCH_TRACE:-}" ] && echo "$entry: from the bundle $bundle/$entry.js" >&2
exec "$node" "$bundle/$entry.js" "$@"
