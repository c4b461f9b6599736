import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Program } from '../../program/index.js';
import { typeName } from '../../program/object.js';
import { BtfDebugInfo } from '../../symbols/btf/debug-info.js';
import { BTF_KIND, Btf } from '../../symbols/btf/format.js';
import { DebugInfo } from '../../symbols/dwarf/debug-info.js';
import type { CType } from '../../symbols/dwarf/types.js';
import { ElfFile } from '../../symbols/elf.js';
import { moduleDebugRoot } from '../lib/module-debug.js';
import { loadSample, oracleText, SAMPLE_NAMES, type SampleName } from '../lib/samples.js';
import { sampleProgram } from '../lib/session.js';

/**
 * An array's counts as BTF can hold them: pahole writes a multi-dimensional array as one array of the product
 * of its counts (`[4][2][5]` is `[40]`), and a zero-length array (`[0]`) as a flexible one (`[]`): both are
 * kept so on the DWARF side.
 */
function btfCounts(line: string): string {
  return line.replace(/((?:\[\d*\])+)$/, (m) => {
    const ns = [...m.matchAll(/\[(\d*)\]/g)].map((y) => y[1]!);
    if (ns.some((q) => q === '' || q === '0')) return '[]';
    return `[${ns.reduce((p, q) => p * Number(q), 1)}]`;
  });
}

/** A struct's or union's layout, one line a member (recursively into anonymous members), for comparing. */
function layout(t: CType, depth = 0): string[] {
  if (t.kind !== 'struct' && t.kind !== 'union') return [];
  const out = [`${t.kind} ${t.name ?? '?'} size ${t.size}`];
  for (const m of t.members) {
    out.push(
      `${'  '.repeat(depth)}${m.name ?? '(anon)'} @${m.offset}${m.bitSize !== undefined ? ` bits ${m.bitOffset}:${m.bitSize}` : ''} ${typeName(m.type)}`,
    );
    if (!m.name) {
      let inner = m.type;
      while (inner.kind === 'typedef' || inner.kind === 'qualified') inner = inner.target;
      out.push(...layout(inner, depth + 1));
    }
  }
  return out;
}

// With k612, another kernel (6.12), read as ELF.
const CASES: [SampleName, string][] = [
  ...SAMPLE_NAMES.map((n): [SampleName, string] => [n, 'kdump-c-d31']),
  ['k612', 'elf-d31'],
];

for (const [name, key] of CASES) {
  describe(`BTF of the ${name} sample`, () => {
    test("the BTF found in the dump's memory (__start_BTF..__stop_BTF) is the vmlinux's .BTF, byte for byte", async (t) => {
      const s = await sampleProgram(name, t, key);
      if (!s) return;
      const bare = Program.open({ vmcore: s.m.files[key]!.path });
      try {
        const mem = bare.btfBytes();
        assert.ok(mem, 'the dump has __start_BTF and __stop_BTF in kallsyms');
        const elf = ElfFile.open(s.m.vmlinux);
        const sec = elf.sectionData('.BTF');
        elf.close();
        assert.equal(mem.length, sec.length);
        assert.ok(Buffer.from(mem).equals(Buffer.from(sec)), 'the same bytes');
        const d = bare.loadBtf();
        assert.ok(d, `BTF loaded: ${bare.btfLoadError}`);
        assert.ok(d.typeCount > 50_000, `${d.typeCount} types`);
        assert.match(
          bare.sourcesLine(),
          /^types: BTF from the dump \(\d+ types\); symbols: kallsyms \(\d+\); unwinding: ORC/,
        );
      } finally {
        bare.close();
      }
    });

    test('every named struct and union has the same size, members, offsets, bitfields and member types from BTF as from DWARF', async (t) => {
      const s = await sampleProgram(name, t, key);
      if (!s) return;
      const elf = ElfFile.open(s.m.vmlinux);
      const btf = new BtfDebugInfo(new Btf(elf.sectionData('.BTF'), `${s.m.vmlinux} .BTF`));
      elf.close();
      const dwarf = await DebugInfo.open(s.m.vmlinux);
      await dwarf.buildIndex();
      try {
        const b = btf.btf;
        // Names two files' different structs have (static struct getdents_callback in fs/readdir.c and in
        // fs/nfsd): which one a lookup gives is each index's choice; those are left out.
        const defs = new Map<string, number>();
        for (let id = 1; id < b.endId; id++) {
          const k = b.kind(id);
          if ((k !== BTF_KIND.STRUCT && k !== BTF_KIND.UNION) || !b.name(id)) continue;
          const key = `${k === BTF_KIND.STRUCT ? 'struct' : 'union'} ${b.name(id)}`;
          defs.set(key, (defs.get(key) ?? 0) + 1);
        }
        const seen = new Set<string>();
        let compared = 0;
        const bad: string[] = [];
        for (let id = 1; id < b.endId; id++) {
          const k = b.kind(id);
          if ((k !== BTF_KIND.STRUCT && k !== BTF_KIND.UNION) || !b.name(id)) continue;
          const key = `${k === BTF_KIND.STRUCT ? 'struct' : 'union'} ${b.name(id)}`;
          if (seen.has(key) || defs.get(key) !== 1) continue;
          seen.add(key);
          const want = dwarf.findType(key);
          const got = btf.findType(key);
          assert.ok(got, key);
          // Structs declared inside a function are in BTF, not in the name index of DWARF's unit-level names.
          if (!want) continue;
          compared++;
          const a = layout(got).map(btfCounts).join('\n');
          const w = layout(want).map(btfCounts).join('\n');
          if (a !== w) bad.push(`${key}:\nBTF:\n${a}\nDWARF:\n${w}`);
        }
        assert.ok(compared > 5000, `${compared} structs and unions compared`);
        assert.deepEqual(bad.slice(0, 5), []);
      } finally {
        dwarf.close();
      }
    });

    test("functions' prototypes and enumerators' values are DWARF's", async (t) => {
      const s = await sampleProgram(name, t, key);
      if (!s) return;
      const bare = Program.open({ vmcore: s.m.files[key]!.path });
      try {
        const d = bare.loadBtf()!;
        for (const f of ['schedule', 'panic', 'printk', 'do_exit', 'kmem_cache_alloc', '__schedule', 'vfs_read']) {
          const want = s.prog.debug.findFunction(f);
          const got = d.findFunction(f);
          if (!want) continue;
          assert.ok(got, f);
          assert.equal(typeName(got.type), typeName(want.type), f);
        }
        let enumerators = 0;
        for (const e of [
          'PIDTYPE_PID',
          'PG_slab',
          'NR_VM_ZONE_STAT_ITEMS',
          'N_ONLINE',
          'TASK_COMM_LEN',
          'NR_SLAB_RECLAIMABLE_B',
        ]) {
          const want = s.prog.debug.findEnumerator(e);
          // Not every kernel has each (PG_slab is gone from 6.12's page flags): then BTF has none either.
          if (!want) {
            assert.equal(d.findEnumerator(e), undefined, e);
            continue;
          }
          assert.equal(d.findEnumerator(e)?.value, want.value, e);
          enumerators++;
        }
        assert.ok(enumerators >= 4, `${enumerators} enumerators compared`);
        // The per-cpu variables are BTF's VARs, at their kallsyms per-cpu offsets, of DWARF's types.
        const percpu = d.percpuVariables();
        assert.ok(percpu.length > 100, `${percpu.length} per-cpu variables`);
        for (const v of ['runqueues', 'cpu_number', 'current_task', 'vm_event_states', 'cea_exception_stacks']) {
          if (!s.prog.hasVariable(v)) continue;
          assert.ok(percpu.includes(v), v);
          const want = s.prog.variable(v);
          const got = bare.variable(v);
          assert.equal(typeName(got.type), typeName(want.type), v);
          assert.equal(got.address, want.address, v);
        }
      } finally {
        bare.close();
      }
    });
  });
}

describe("the modules' BTF of the mce sample (split on the kernel's)", () => {
  test("each loaded module's BTF is read from the kernel's btf_modules; its structs are laid out as its .ko's DWARF has them", async (t) => {
    const m = loadSample('mce', t);
    if (!m) return;
    const root = moduleDebugRoot(m, t);
    if (!root) return;
    const names = (JSON.parse(oracleText(m, 'drgn-modules')) as { name: string }[]).map((x) => x.name);
    const bare = Program.open({ vmcore: m.files['kdump-c-d31']!.path });
    try {
      const d = bare.loadBtf()!;
      const mods = d.moduleBtf;
      assert.deepEqual([...mods.keys()].sort(), [...names].sort(), 'every module drgn lists has its BTF');
      const files = new Map<string, string>();
      const walk = (dir: string): void => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          if (e.isDirectory()) walk(join(dir, e.name));
          else if (e.name.endsWith('.ko')) files.set(e.name.slice(0, -3).replace(/-/g, '_'), join(dir, e.name));
        }
      };
      walk(join(root, 'lib', 'modules', m.release));
      let compared = 0;
      for (const [name, mod] of mods) {
        const ko = files.get(name);
        if (!ko) continue;
        const dwarf = await DebugInfo.open(ko, { index: 'full' });
        try {
          const b = mod.btf;
          const defs = new Map<string, number>();
          for (let id = b.firstId; id < b.endId; id++) {
            const k = b.kind(id);
            if ((k !== BTF_KIND.STRUCT && k !== BTF_KIND.UNION) || !b.name(id)) continue;
            const key = `${k === BTF_KIND.STRUCT ? 'struct' : 'union'} ${b.name(id)}`;
            defs.set(key, (defs.get(key) ?? 0) + 1);
          }
          for (const [key, n] of defs) {
            const want = dwarf.findType(key);
            if (n !== 1 || !want || (want as { declaration?: boolean }).declaration) continue;
            // The module's own struct, found through the session's types (the kernel's BTF, then the modules').
            const got = mod.findType(key);
            assert.ok(got, key);
            assert.equal(
              layout(got).map(btfCounts).join('\n'),
              layout(want).map(btfCounts).join('\n'),
              `${name}: ${key}`,
            );
            compared++;
          }
        } finally {
          dwarf.close();
        }
      }
      assert.ok(compared >= 20, `${compared} module structs compared`);
      // The session finds a module's type by name: the kernel's BTF has no nvme_dev, the nvme module's has.
      const nvme = mods.get('nvme');
      if (nvme) {
        const own = nvme.btf;
        let key: string | undefined;
        for (let id = own.firstId; id < own.endId && !key; id++)
          if (own.kind(id) === BTF_KIND.STRUCT && own.name(id) && !d.types.names().types.has(`struct ${own.name(id)}`))
            key = `struct ${own.name(id)}`;
        assert.ok(key);
        assert.equal(bare.debug.findType(key), nvme.findType(key));
      }
    } finally {
      bare.close();
    }
  });
});
