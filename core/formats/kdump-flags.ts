/**
 * The kdump-compressed format's status and page_desc flags (diskdump_mod.h): one definition for the reader
 * (kdump.ts, which re-exports them) and the writer, in a module of their own so that the writer does not load
 * the reader to name them.
 */
export const DUMP_DH_COMPRESSED_ZLIB = 0x1;
export const DUMP_DH_COMPRESSED_LZO = 0x2;
export const DUMP_DH_COMPRESSED_SNAPPY = 0x4;
export const DUMP_DH_COMPRESSED_INCOMPLETE = 0x8;
export const DUMP_DH_EXCLUDED_VMEMMAP = 0x10;
export const DUMP_DH_COMPRESSED_ZSTD = 0x20;
