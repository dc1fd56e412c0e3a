import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DistributionClient } from '../../lib/adapters/oci/distribution-client.js';
import { readPackageArtifact } from '../../lib/domain/registry/artifact.js';
import { buildDkArtifact, pushArtifact } from '../support/dk-artifact.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { specDir } from '../support/spec-dir.js';

// What `dk build` leaves out of the content layer (ARTIFACT.md).
const excluded = new Set(['.git', 'node_modules', '__pycache__', '.venv', '.DS_Store']);

/** Every directory under `root` that holds a dk.yaml: one package each. */
function packageDirs(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    if (existsSync(join(dir, 'dk.yaml'))) found.push(dir);
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!excluded.has(name) && statSync(path).isDirectory()) walk(path);
    }
  };
  walk(root);
  return found.sort();
}

/** A package's files by forward-slash path; nested packages belong to themselves, not to their parent. */
function packageFiles(dir: string): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  const walk = (current: string) => {
    for (const name of readdirSync(current)) {
      if (excluded.has(name)) continue;
      const path = join(current, name);
      if (statSync(path).isDirectory()) {
        if (!existsSync(join(path, 'dk.yaml'))) walk(path);
        continue;
      }
      files[relative(dir, path).split(sep).join('/')] = readFileSync(path);
    }
  };
  walk(dir);
  return files;
}

const examplesDir = join(specDir(), 'datakit', 'examples');
const packages = packageDirs(examplesDir).map((dir) => ({ name: relative(examplesDir, dir), dir }));

let registry: TestRegistry;
const client = new DistributionClient({ timeoutMs: 10_000 });

beforeAll(async () => {
  registry = await startRegistry();
});

afterAll(async () => {
  await registry?.stop();
});

describe('every example package round-trips through the dk artifact layout and a real registry', () => {
  it('finds example packages to check', () => {
    expect(packages.length).toBeGreaterThanOrEqual(3);
  });

  it.each(packages)('$name', async ({ name, dir }) => {
    const files = packageFiles(dir);
    const repository = { registry: registry.host, repository: `examples/${name.replaceAll('/', '-')}` };
    const pushed = await pushArtifact(client, repository, '1.0.0', await buildDkArtifact(files));

    const result = await readPackageArtifact(client, { ...repository, tag: '1.0.0' });

    expect(result.ok ? [] : result.problems).toEqual([]);
    if (!result.ok) return;
    expect(result.digest).toBe(pushed.digest);
    expect(Object.keys(result.files).sort()).toEqual(Object.keys(files).sort());
    for (const [path, bytes] of Object.entries(files)) {
      expect(result.files[path]?.equals(bytes), `${path} differs`).toBe(true);
    }
    expect(result.config.manifest).toEqual(parse(files['dk.yaml']?.toString('utf8') ?? ''));
  });
});
