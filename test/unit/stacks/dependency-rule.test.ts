import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../../stacks');

/** Stacks describe infrastructure: they share contracts with the runtime, never its adapters or handlers. */
const forbidden = [/\/lib\/adapters\//, /\/lib\/runtime\//, /\/lambdas\//, /^@aws-sdk\//];

function importsOf(source: string): string[] {
  return [...source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].flatMap(
    ([, specifier]) => (specifier === undefined ? [] : [specifier]),
  );
}

function sourcesUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourcesUnder(join(directory, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(directory, entry.name)]
        : [],
  );
}

describe('the stacks (import contracts, never adapters, the runtime or handlers)', () => {
  const files = sourcesUnder(root).map((file) => relative(root, file));

  it('recognises a forbidden import when it sees one', () => {
    const imports = importsOf("import { keys } from '../../lib/adapters/dynamodb/keys.js';\n");

    expect(imports.filter((specifier) => forbidden.some((pattern) => pattern.test(specifier)))).toEqual([
      '../../lib/adapters/dynamodb/keys.js',
    ]);
  });

  it.each(files)('%s imports no adapter, runtime module or handler', (file) => {
    const imports = importsOf(readFileSync(join(root, file), 'utf8'));

    expect(imports.filter((specifier) => forbidden.some((pattern) => pattern.test(specifier)))).toEqual([]);
  });
});
