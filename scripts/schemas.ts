/**
 * `npm run schemas`: the JSON Schema of every command result type (an exported `interface NAMEResult` in
 * commands/, or in plugins/ for the shipped plugins), generated from the TypeScript types into schemas/NAME.json.
 * `--check` regenerates them in memory and fails when a committed schema differs (the test suite runs it).
 *
 * Results hold addresses and 64-bit values as bigint (the `Hex` type of commands/result.ts); their JSON form is a
 * "0x..." string, and so is their schema.
 */
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BaseType,
  type CompletedConfig,
  createFormatter,
  createParser,
  createProgram,
  DEFAULT_CONFIG,
  type Definition,
  SchemaGenerator,
  type SubNodeParser,
  type SubTypeFormatter,
} from 'ts-json-schema-generator';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const HEX = { type: 'string', pattern: '^-?0x[0-9a-f]+$', description: 'A 64-bit value or address, in hex.' };

/**
 * Every result type a command names (`resultType: 'NAME'`) with the file that declares it, and TextResult (the
 * JSON of a command without a result model).
 */
export function resultTypes(): { type: string; file: string }[] {
  const out: { type: string; file: string }[] = [{ type: 'TextResult', file: 'commands/result.ts' }];
  // The built-ins' (commands/) and the shipped plugins' (plugins/) result types, each declared in its directory.
  for (const dir of ['commands', 'plugins']) {
    const files = readdirSync(join(root, dir)).filter((x) => x.endsWith('.ts'));
    const text = new Map(files.map((f) => [f, readFileSync(join(root, dir, f), 'utf8')]));
    for (const f of [...files].sort()) {
      for (const m of text.get(f)!.matchAll(/resultType: '(\w+)'/g)) {
        const decl = files.find((g) => new RegExp(`^export (interface|type) ${m[1]}\\b`, 'm').test(text.get(g)!));
        if (!decl) throw new Error(`${dir}/${f}: result type ${m[1]} is declared in no file of ${dir}/`);
        if (!out.some((x) => x.type === m[1])) out.push({ type: m[1]!, file: `${dir}/${decl}` });
      }
    }
  }
  return out;
}

/** bigint, wherever a result holds one (its own fields or a helper's record): a hex string in JSON. */
class HexType extends BaseType {
  getId(): string {
    return 'bigint-hex';
  }
}

class BigIntParser implements SubNodeParser {
  supportsNode(node: ts.Node): boolean {
    return node.kind === ts.SyntaxKind.BigIntKeyword;
  }
  createType(): BaseType {
    return new HexType();
  }
}

class HexFormatter implements SubTypeFormatter {
  supportsType(type: BaseType): boolean {
    return type instanceof HexType;
  }
  getDefinition(): Definition {
    return HEX as Definition;
  }
  getChildren(): BaseType[] {
    return [];
  }
}

export function schemaText(type: string, file: string): string {
  const config: CompletedConfig = {
    ...DEFAULT_CONFIG,
    path: join(root, file),
    tsconfig: join(root, 'tsconfig.json'),
    type,
    expose: 'export',
    topRef: false,
    jsDoc: 'extended',
    skipTypeCheck: true,
    additionalProperties: false,
  };
  const program = createProgram(config);
  const parser = createParser(program, config, (p) => p.addNodeParser(new BigIntParser()));
  const formatter = createFormatter(config, (f) => f.addTypeFormatter(new HexFormatter()));
  const generator = new SchemaGenerator(program, parser, formatter, config);
  const schema = generator.createSchema(type) as Record<string, unknown> & {
    definitions?: Record<string, unknown>;
  };
  if (schema.definitions?.Hex) schema.definitions.Hex = HEX;
  schema.$id = `tscrash/${type}.json`;
  return `${JSON.stringify(schema, null, 2)}\n`;
}

function main(): void {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  for (const { type, file } of resultTypes()) {
    const text = schemaText(type, file);
    const path = join(root, 'schemas', `${type}.json`);
    let have: string | undefined;
    try {
      have = readFileSync(path, 'utf8');
    } catch {
      have = undefined;
    }
    if (have === text) continue;
    if (check) stale.push(type);
    else {
      writeFileSync(`${path}.tmp`, text);
      renameSync(`${path}.tmp`, path);
      process.stdout.write(`schemas/${type}.json\n`);
    }
  }
  if (stale.length) {
    process.stderr.write(`schemas out of date (npm run schemas): ${stale.join(', ')}\n`);
    process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
