import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../../lib/domain/registry');
const forbidden = [/^@aws-sdk\//, /^aws-cdk-lib/, /^constructs$/, /\/adapters\//];

function importsOf(source: string): string[] {
  return [...source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].flatMap(
    ([, specifier]) => (specifier === undefined ? [] : [specifier]),
  );
}

describe('the registry domain (lib/domain imports no SDK, no CDK and no adapters)', () => {
  const files = readdirSync(root).filter((file) => file.endsWith('.ts'));

  it('recognises a forbidden import when it sees one', () => {
    const imports = importsOf("import { readTarGz } from '../../adapters/oci/archive.js';\n");

    expect(imports.filter((specifier) => forbidden.some((pattern) => pattern.test(specifier)))).toEqual([
      '../../adapters/oci/archive.js',
    ]);
  });

  it.each(files)('%s imports neither an SDK, the CDK nor an adapter', (file) => {
    const imports = importsOf(readFileSync(join(root, file), 'utf8'));

    expect(imports.filter((specifier) => forbidden.some((pattern) => pattern.test(specifier)))).toEqual([]);
  });
});
