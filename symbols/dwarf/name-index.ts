/**
 * The name index of a vmlinux's DWARF: every unit-level named type, variable,
 * function and enumerator → the offset of its DIE. Built by one pass over
 * .debug_info that decodes only the attributes it needs (name, declaration,
 * specification, location, sibling) from per-abbreviation plans, jumps over
 * children with DW_AT_sibling, and reads no DIE twice. Persisted on disk keyed
 * by build-id (see name-cache.ts).
 */
import { BadDataError } from '../../core/errors.js';
import { DW_AT, DW_FORM, DW_TAG, fixedFormSize } from './forms.js';
import type { DwarfReader, Unit } from './reader.js';

const AT_location = 0x02;
const AT_specification = 0x47;

/** What the scan does with one attribute. */
enum Role {
  Skip = 0,
  Name = 1,
  Declaration = 2,
  Specification = 3,
  Location = 4,
  Sibling = 5,
  StrOffsetsBase = 6,
}

interface Plan {
  tag: number;
  children: boolean;
  roles: Uint8Array;
  forms: Uint32Array;
  /** Fixed byte size per attribute, or -1 when it must be decoded to be skipped. */
  sizes: Int32Array;
  /** When no attribute has a role and all sizes are fixed: the total to jump. */
  fixed: number;
}

export interface NameIndex {
  /** 'struct x', 'union x', 'enum x', and typedef and base type names. */
  types: Map<string, number>;
  variables: Map<string, number>;
  functions: Map<string, number>;
  /** Enumerator name → [enumerator DIE, its enumeration_type DIE]. */
  enumerators: Map<string, [number, number]>;
  /** The units skipped because they could not be decoded (none in an intact file). */
  damaged?: DamagedUnit[];
}

const TYPE_PREFIX: Record<number, string> = {
  [DW_TAG.structure_type]: 'struct ',
  [DW_TAG.union_type]: 'union ',
  [DW_TAG.enumeration_type]: 'enum ',
  [DW_TAG.typedef]: '',
  [DW_TAG.base_type]: '',
};

const MAX_DEPTH = 4096;

/** A scan's index plus the variables it saw only declared (a later chunk's definition replaces them). */
export interface PartialIndex extends NameIndex {
  declaredOnly: Set<string>;
  /** [DIE, specification, located] of definitions whose declaration is in a unit this scan did not hold. */
  unresolved: number[];
  /** Units whose DIEs could not be decoded (a damaged file): skipped, the names before the damage kept. */
  damaged: DamagedUnit[];
}

/** A compile unit the index skipped: where it starts in .debug_info and what was wrong. */
export interface DamagedUnit {
  unit: number;
  message: string;
}

export function buildNameIndex(
  r: DwarfReader,
  opts: { deferSpecifications?: boolean /** Only these units (the targeted search's). */; units?: Unit[] } = {},
): PartialIndex {
  const info = r.info;
  const dv = new DataView(info.buffer, info.byteOffset, info.byteLength);
  const str = r.str;
  const lineStr = r.lineStr;
  const strOffsets = r.strOffsets;
  const soDv = new DataView(strOffsets.buffer, strOffsets.byteOffset, strOffsets.byteLength);
  const strCache = new Map<number, string>();
  const lineStrCache = new Map<number, string>();
  const idx: NameIndex = { types: new Map(), variables: new Map(), functions: new Map(), enumerators: new Map() };
  /** Variables whose name is on the DIE their DW_AT_specification names: [DIE, spec, has location]. */
  const pendingSpecs: number[] = [];
  /** Variables seen without a location (declarations), replaced by a definition when one comes. */
  const declaredOnly = new Set<string>();

  const fail = (msg: string, off: number): never => {
    throw new BadDataError(`.debug_info: ${msg}`, r.elf.path, off);
  };

  /** A plan from one abbreviation's attribute and form lists. */
  const makePlan = (tag: number, children: boolean, attrs: number[], forms: number[], u: Unit): Plan => {
    const n = attrs.length;
    const roles = new Uint8Array(n);
    const sizes = new Int32Array(n);
    let fixed = 0;
    for (let i = 0; i < n; i++) {
      const at = attrs[i]!;
      roles[i] =
        at === DW_AT.name
          ? Role.Name
          : at === DW_AT.declaration
            ? Role.Declaration
            : at === AT_specification
              ? Role.Specification
              : at === AT_location
                ? Role.Location
                : at === DW_AT.sibling
                  ? Role.Sibling
                  : at === DW_AT.str_offsets_base
                    ? Role.StrOffsetsBase
                    : Role.Skip;
      sizes[i] = fixedFormSize(forms[i]!, u.offsetSize, u.addrSize, u.version);
      if (fixed >= 0) fixed = sizes[i]! < 0 || roles[i] !== Role.Skip ? -1 : fixed + sizes[i]!;
    }
    return { tag, children, roles, forms: Uint32Array.from(forms), sizes, fixed };
  };

  // Plans straight from .debug_abbrev, by code, per table. A kernel has a table per unit (thousands), mostly
  // the same declarations over and over: one plan serves every identical declaration (same bytes, same unit
  // shape), which keeps the scan from building hundreds of thousands of objects.
  const abbrevBytes = r.abbrevSection;
  const abbrevLatin1 = Buffer.from(abbrevBytes.buffer, abbrevBytes.byteOffset, abbrevBytes.byteLength);
  const tables = new Map<string, (Plan | undefined)[]>();
  const shared = new Map<string, Plan>();
  const plansOf = (u: Unit): (Plan | undefined)[] => {
    const shape = `${u.offsetSize}:${u.addrSize}:${u.version}`;
    const tkey = `${u.abbrevOffset}:${shape}`;
    const hit = tables.get(tkey);
    if (hit) return hit;
    const out: (Plan | undefined)[] = [];
    let p = u.abbrevOffset;
    const a = abbrevBytes;
    const failAbbrev = (msg: string, off: number): never => {
      throw new BadDataError(`.debug_abbrev: ${msg}`, r.elf.path, off);
    };
    const leb = (): number => {
      let v = 0;
      let shift = 0;
      for (;;) {
        if (p >= a.length) return failAbbrev('abbreviation table truncated', p);
        const b = a[p++]!;
        v += (b & 0x7f) * 2 ** shift;
        if (b < 0x80) return v;
        shift += 7;
        if (shift > 70) return failAbbrev('LEB128 too long', p);
      }
    };
    for (let count = 0; ; count++) {
      if (count > 1_000_000) failAbbrev('abbreviation table does not end', u.abbrevOffset);
      const code = leb();
      if (code === 0) break;
      const declStart = p;
      const tag = leb();
      const children = a[p++] === 1;
      const attrs: number[] = [];
      const forms: number[] = [];
      for (;;) {
        const at = leb();
        const form = leb();
        if (at === 0 && form === 0) break;
        if (form === DW_FORM.implicit_const) leb();
        attrs.push(at);
        forms.push(form);
        if (attrs.length > 1000) failAbbrev('abbreviation with too many attributes', p);
      }
      const key = `${shape}:${abbrevLatin1.toString('latin1', declStart, p)}`;
      let plan = shared.get(key);
      if (!plan) {
        plan = makePlan(tag, children, attrs, forms, u);
        shared.set(key, plan);
      }
      if (code > 1_000_000) failAbbrev(`abbreviation code ${code} too large`, declStart);
      out[code] = plan;
    }
    tables.set(tkey, out);
    return out;
  };
  let unitPlans: (Plan | undefined)[] = [];

  let pos = 0;
  const uleb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= info.length) fail('LEB128 runs past the section', pos);
      const b = info[pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 63) fail('LEB128 too long', pos);
    }
  };
  const skipLeb = (): void => {
    while (pos < info.length && info[pos++]! >= 0x80);
  };

  const strBuf = Buffer.from(str.buffer, str.byteOffset, str.byteLength);
  const lineStrBuf = Buffer.from(lineStr.buffer, lineStr.byteOffset, lineStr.byteLength);
  const cstr = (sec: Uint8Array, off: number, cache: Map<number, string>, what: string): string => {
    const hit = cache.get(off);
    if (hit !== undefined) return hit;
    if (off >= sec.length) fail(`string offset 0x${off.toString(16)} outside ${what}`, pos);
    const end = sec.indexOf(0, off);
    const s = (sec === str ? strBuf : lineStrBuf).toString('latin1', off, end < 0 ? sec.length : end);
    cache.set(off, s);
    return s;
  };

  // Per-DIE results of decodeAttrs. The name is kept as where it is (a .debug_str offset >= 0, a .debug_line_str
  // offset as -(off + 2)) and only turned into a string when it is new: most names repeat in every unit.
  const NO_NAME = -1;
  let nameId = NO_NAME;
  let inlineName: string | undefined;
  let declaration = false;
  let spec = -1;
  let hasLocation = false;
  let sibling = -1;
  let unit: Unit;
  let strBase = 8;

  const strx = (i: number): number => {
    const at = strBase + i * unit.offsetSize;
    if (at + unit.offsetSize > strOffsets.length) fail(`string index ${i} outside .debug_str_offsets`, pos);
    return unit.offsetSize === 8 ? Number(soDv.getBigUint64(at, true)) : soDv.getUint32(at, true);
  };

  /** The current DIE's name as a string. */
  const nameText = (): string =>
    inlineName ??
    (nameId >= 0
      ? cstr(str, nameId, strCache, '.debug_str')
      : cstr(lineStr, -nameId - 2, lineStrCache, '.debug_line_str'));
  const hasName = (): boolean => nameId !== NO_NAME || inlineName !== undefined;

  const readOffset = (): number => {
    const v = unit.offsetSize === 8 ? Number(dv.getBigUint64(pos, true)) : dv.getUint32(pos, true);
    pos += unit.offsetSize;
    return v;
  };

  /** Skip one attribute value of a variable-size form. */
  const skipForm = (form: number): void => {
    switch (form) {
      case DW_FORM.udata:
      case DW_FORM.sdata:
      case DW_FORM.ref_udata:
      case DW_FORM.strx:
      case DW_FORM.addrx:
      case DW_FORM.loclistx:
      case DW_FORM.rnglistx:
      case DW_FORM.GNU_addr_index:
      case DW_FORM.GNU_str_index:
        skipLeb();
        return;
      case DW_FORM.string:
        while (pos < info.length && info[pos] !== 0) pos++;
        pos++;
        return;
      case DW_FORM.exprloc:
      case DW_FORM.block: {
        const n = uleb();
        pos += n;
        return;
      }
      case DW_FORM.block1:
        pos += 1 + info[pos]!;
        return;
      case DW_FORM.block2:
        pos += 2 + dv.getUint16(pos, true);
        return;
      case DW_FORM.block4:
        pos += 4 + dv.getUint32(pos, true);
        return;
      case DW_FORM.indirect: {
        const f = uleb();
        if (f === DW_FORM.indirect) fail('DW_FORM_indirect pointing to itself', pos);
        const s = fixedFormSize(f, unit.offsetSize, unit.addrSize, unit.version);
        if (s >= 0) pos += s;
        else skipForm(f);
        return;
      }
      default:
        fail(`unknown attribute form 0x${form.toString(16)}`, pos);
    }
  };

  /** Read a name attribute into nameId / inlineName. */
  const readName = (form: number): void => {
    switch (form) {
      case DW_FORM.strp:
        nameId = readOffset();
        return;
      case DW_FORM.line_strp:
        nameId = -readOffset() - 2;
        return;
      case DW_FORM.string: {
        const start = pos;
        while (pos < info.length && info[pos] !== 0) pos++;
        inlineName = Buffer.from(info.buffer, info.byteOffset + start, pos - start).toString('latin1');
        pos++;
        return;
      }
      case DW_FORM.strx1:
        nameId = strx(info[pos++]!);
        return;
      case DW_FORM.strx2: {
        const i = dv.getUint16(pos, true);
        pos += 2;
        nameId = strx(i);
        return;
      }
      case DW_FORM.strx3: {
        const i = dv.getUint16(pos, true) | (info[pos + 2]! << 16);
        pos += 3;
        nameId = strx(i);
        return;
      }
      case DW_FORM.strx4: {
        const i = dv.getUint32(pos, true);
        pos += 4;
        nameId = strx(i);
        return;
      }
      case DW_FORM.strx:
      case DW_FORM.GNU_str_index:
        nameId = strx(uleb());
        return;
      default: {
        const sz = fixedFormSize(form, unit.offsetSize, unit.addrSize, unit.version);
        if (sz >= 0) pos += sz;
        else skipForm(form);
      }
    }
  };

  const readRef = (form: number): number => {
    switch (form) {
      case DW_FORM.ref1:
        return unit.offset + info[pos++]!;
      case DW_FORM.ref2: {
        const v = dv.getUint16(pos, true);
        pos += 2;
        return unit.offset + v;
      }
      case DW_FORM.ref4: {
        const v = dv.getUint32(pos, true);
        pos += 4;
        return unit.offset + v;
      }
      case DW_FORM.ref8: {
        const v = Number(dv.getBigUint64(pos, true));
        pos += 8;
        return unit.offset + v;
      }
      case DW_FORM.ref_udata:
        return unit.offset + uleb();
      case DW_FORM.ref_addr:
        return readOffset();
      default: {
        const s = fixedFormSize(form, unit.offsetSize, unit.addrSize, unit.version);
        if (s >= 0) pos += s;
        else skipForm(form);
        return -1;
      }
    }
  };

  /** Decode a DIE's attributes at `pos` by its plan, leaving pos after them. */
  const decodeAttrs = (pl: Plan): void => {
    nameId = NO_NAME;
    inlineName = undefined;
    declaration = false;
    spec = -1;
    hasLocation = false;
    sibling = -1;
    if (pl.fixed >= 0) {
      pos += pl.fixed;
      return;
    }
    const n = pl.roles.length;
    for (let i = 0; i < n; i++) {
      const role = pl.roles[i]!;
      const form = pl.forms[i]!;
      switch (role) {
        case Role.Skip: {
          const s = pl.sizes[i]!;
          if (s >= 0) pos += s;
          else skipForm(form);
          break;
        }
        case Role.Name:
          readName(form);
          break;
        case Role.Declaration:
          if (form === DW_FORM.flag_present) declaration = true;
          else if (form === DW_FORM.flag) declaration = info[pos++] !== 0;
          else readRef(form);
          break;
        case Role.Specification:
          spec = readRef(form);
          break;
        case Role.Location:
          hasLocation = true;
          if (pl.sizes[i]! >= 0) pos += pl.sizes[i]!;
          else skipForm(form);
          break;
        case Role.Sibling:
          sibling = readRef(form);
          break;
        case Role.StrOffsetsBase:
          if (form === DW_FORM.sec_offset) strBase = readOffset();
          else if (pl.sizes[i]! >= 0) pos += pl.sizes[i]!;
          else skipForm(form);
          break;
      }
    }
  };

  const abbrevAt = (code: number, at: number): Plan => {
    const pl = unitPlans[code];
    if (!pl) return fail(`abbreviation code ${code} not in the unit's table`, at);
    return pl;
  };

  /** Skip the children of the DIE whose attributes end at `pos`. */
  const skipChildren = (): void => {
    let depth = 1;
    while (depth > 0) {
      if (pos >= unit.end) fail('DIE tree runs past its unit', pos);
      const at = pos;
      const code = uleb();
      if (code === 0) {
        depth--;
        continue;
      }
      const pl = abbrevAt(code, at);
      decodeAttrs(pl);
      if (pl.children) {
        if (sibling > at && sibling <= unit.end) pos = sibling;
        else if (++depth > MAX_DEPTH) fail('DIE tree nested too deeply', at);
      }
    }
  };

  // Names already taken, by where their text is: later DIEs with them are skipped without building strings.
  const typeSeen: Record<string, Set<number>> = {
    'struct ': new Set(),
    'union ': new Set(),
    'enum ': new Set(),
    '': new Set(),
  };
  const varLocated = new Set<number>();
  const funcSeen = new Set<number>();
  const enumSeen = new Set<number>();

  const addVariable = (n: string, off: number, located: boolean): void => {
    const prev = idx.variables.get(n);
    if (prev === undefined) {
      idx.variables.set(n, off);
      if (!located) declaredOnly.add(n);
    } else if (located && declaredOnly.has(n)) {
      idx.variables.set(n, off);
      declaredOnly.delete(n);
    }
  };

  if (!opts.units) r.ensureAllUnits();
  const damaged: DamagedUnit[] = [];
  for (const u of opts.units ?? r.units) {
    try {
      scanUnit(u);
    } catch (e) {
      // One damaged unit (a corrupt byte in its DIEs or its abbreviations) is skipped and named; the index is
      // built from the others. The names it gave before the damage stay. The scan reads .debug_info unchecked
      // (a DataView's own bounds check): a length or form that runs it off the end is that unit's damage too.
      if (e instanceof RangeError) {
        damaged.push({
          unit: u.offset,
          message: `${r.elf.path}: offset 0x${pos.toString(16)}: .debug_info: a DIE runs past the end of the section`,
        });
        continue;
      }
      if (!(e instanceof BadDataError)) throw e;
      damaged.push({ unit: u.offset, message: e.message });
    }
  }

  function scanUnit(u: Unit): void {
    r.ensureUnit(u);
    unit = u;
    unitPlans = plansOf(u);
    strBase = 8;
    pos = u.dieOffset;
    if (pos >= u.end) return;
    const cuAt = pos;
    const cuCode = uleb();
    if (cuCode === 0) return;
    const cu = abbrevAt(cuCode, cuAt);
    decodeAttrs(cu);
    if (!cu.children) return;
    while (pos < u.end) {
      const at = pos;
      const code = uleb();
      if (code === 0) break;
      const pl = abbrevAt(code, at);
      decodeAttrs(pl);
      const tag = pl.tag;
      const prefix = TYPE_PREFIX[tag];
      if (prefix !== undefined) {
        if (hasName() && !declaration) {
          const seen = typeSeen[prefix]!;
          if (inlineName !== undefined || !seen.has(nameId)) {
            if (inlineName === undefined) seen.add(nameId);
            const key = prefix + nameText();
            if (!idx.types.has(key)) idx.types.set(key, at);
          }
        }
      } else if (tag === DW_TAG.variable) {
        if (hasName()) {
          if (inlineName !== undefined || varLocated.has(nameId) !== true) {
            if (hasLocation && inlineName === undefined) varLocated.add(nameId);
            addVariable(nameText(), at, hasLocation);
          }
        } else if (spec >= 0) pendingSpecs.push(at, spec, hasLocation ? 1 : 0);
      } else if (tag === DW_TAG.subprogram) {
        if (hasName() && !declaration && (inlineName !== undefined || !funcSeen.has(nameId))) {
          if (inlineName === undefined) funcSeen.add(nameId);
          const n = nameText();
          if (!idx.functions.has(n)) idx.functions.set(n, at);
        }
      }
      if (!pl.children) continue;
      if (tag === DW_TAG.enumeration_type) {
        // Enumerators, of named and anonymous enums alike.
        const enumAt = at;
        while (pos < u.end) {
          const cAt = pos;
          const c = uleb();
          if (c === 0) break;
          const cpl = abbrevAt(c, cAt);
          decodeAttrs(cpl);
          if (cpl.tag === DW_TAG.enumerator && hasName() && (inlineName !== undefined || !enumSeen.has(nameId))) {
            if (inlineName === undefined) enumSeen.add(nameId);
            const n = nameText();
            if (!idx.enumerators.has(n)) idx.enumerators.set(n, [cAt, enumAt]);
          }
          if (cpl.children) skipChildren();
        }
        continue;
      }
      if (sibling > at && sibling <= u.end) pos = sibling;
      else skipChildren();
    }
  }

  // Definitions named through DW_AT_specification: the name is on the declaration they point to.
  // Deferred (for a merge of shares, which resolves them all after every share's direct names, in order).
  if (opts.deferSpecifications) return { ...idx, declaredOnly, unresolved: pendingSpecs, damaged };
  const unresolved: number[] = [];
  for (let i = 0; i < pendingSpecs.length; i += 3) {
    let n: unknown;
    try {
      n = r.readDie(pendingSpecs[i + 1]!)?.attrs.get(DW_AT.name);
    } catch (e) {
      // A specification in a unit this scan does not hold (a worker's share): resolved by the merge.
      if (!(e instanceof BadDataError)) throw e;
      unresolved.push(pendingSpecs[i]!, pendingSpecs[i + 1]!, pendingSpecs[i + 2]!);
      continue;
    }
    if (typeof n === 'string') addResolved(idx.variables, declaredOnly, n, pendingSpecs[i]!, pendingSpecs[i + 2] === 1);
  }
  return { ...idx, declaredOnly, unresolved, damaged };
}

/**
 * A variable named through its specification, added after the direct names: the first located definition in
 * unit order (that is, by DIE offset) wins, and a declaration only stands while there is no definition.
 */
function addResolved(
  vars: Map<string, number>,
  declared: Set<string>,
  name: string,
  off: number,
  located: boolean,
): void {
  const prev = vars.get(name);
  if (prev === undefined) {
    vars.set(name, off);
    if (!located) declared.add(name);
  } else if (located && (declared.has(name) || off < prev)) {
    vars.set(name, off);
    declared.delete(name);
  }
}

/** Merge the indexes of consecutive chunks of units, in unit order, as one scan would have built it. */
export function mergeNameIndexes(parts: PartialIndex[], nameAt?: (die: number) => string | undefined): NameIndex {
  const out: NameIndex = { types: new Map(), variables: new Map(), functions: new Map(), enumerators: new Map() };
  const declared = new Set<string>();
  for (const p of parts) {
    for (const [k, v] of p.types) if (!out.types.has(k)) out.types.set(k, v);
    for (const [k, v] of p.functions) if (!out.functions.has(k)) out.functions.set(k, v);
    for (const [k, v] of p.enumerators) if (!out.enumerators.has(k)) out.enumerators.set(k, v);
    for (const [k, v] of p.variables) {
      const located = !p.declaredOnly.has(k);
      if (!out.variables.has(k)) {
        out.variables.set(k, v);
        if (!located) declared.add(k);
      } else if (located && declared.has(k)) {
        out.variables.set(k, v);
        declared.delete(k);
      }
    }
  }
  const damaged = parts.flatMap((p) => p.damaged ?? []);
  if (damaged.length) out.damaged = damaged;
  // Definitions named by a declaration in another share of units.
  for (const p of parts) {
    for (let i = 0; nameAt && i < p.unresolved.length; i += 3) {
      const k = nameAt(p.unresolved[i + 1]!);
      if (k !== undefined) addResolved(out.variables, declared, k, p.unresolved[i]!, p.unresolved[i + 2] === 1);
    }
  }
  return out;
}
