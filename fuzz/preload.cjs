// Loaded with `node --require` before the jazzer CLI (fuzz/run.ts starts it): the fuzzer's require of its prebuilt
// addon gets the copy fuzz/addon.ts made loadable on this system (TSCRASH_FUZZ_ADDON).
const Module = require('node:module');
const addon = process.env.TSCRASH_FUZZ_ADDON;
if (addon) {
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    if (/[\\/]fuzzer-[a-z0-9]+-[a-z0-9]+\.node$/.test(request)) return addon;
    return resolve.call(this, request, ...rest);
  };
}
