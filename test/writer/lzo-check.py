#!/usr/bin/env python3
"""Decompress LZO1X streams with Debian's liblzo2 (lzo1x_decompress_safe).
Usage: lzo-check.py DIR  -- for each DIR/N.lzo, decompress and compare with DIR/N.raw.
Prints 'ok COUNT' or the first failure and exits 1."""
import ctypes, os, sys
lib = ctypes.CDLL('liblzo2.so.2')
d = sys.argv[1]
n = 0
for name in sorted(os.listdir(d)):
    if not name.endswith('.lzo'):
        continue
    comp = open(os.path.join(d, name), 'rb').read()
    raw = open(os.path.join(d, name[:-4] + '.raw'), 'rb').read()
    out = ctypes.create_string_buffer(len(raw) + 64)
    outlen = ctypes.c_size_t(len(raw) + 64)
    rc = lib.lzo1x_decompress_safe(comp, ctypes.c_size_t(len(comp)), out, ctypes.byref(outlen), None)
    if rc != 0 or out.raw[:outlen.value] != raw:
        print('FAIL %s rc=%d outlen=%d want=%d' % (name, rc, outlen.value, len(raw)))
        sys.exit(1)
    n += 1
print('ok %d' % n)
