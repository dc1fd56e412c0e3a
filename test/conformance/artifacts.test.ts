import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DistributionClient } from '../../lib/adapters/oci/distribution-client.js';
import { readPackageDirectory } from '../../lib/adapters/oci/package-builder.js';
import { isKeptFromContentLayer, readPackageArtifact } from '../../lib/domain/registry/artifact.js';
import {
  buildDkArtifact,
  examplePackages,
  isManifestsLayerPath,
  pushArtifact,
} from '../support/dk-artifact.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { specDir } from '../support/spec-dir.js';

const examplesDir = join(specDir(), 'datakit', 'examples');
const packages = examplePackages(examplesDir);

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
    const files = await readPackageDirectory(dir);
    const repository = { registry: registry.host, repository: `examples/${name.replaceAll('/', '-')}` };
    const pushed = await pushArtifact(client, repository, '1.0.0', await buildDkArtifact(files));

    const result = await readPackageArtifact(client, { ...repository, tag: '1.0.0' });

    expect(result.ok ? [] : result.problems).toEqual([]);
    if (!result.ok) return;
    expect(result.digest).toBe(pushed.digest);
    // The whole manifests layer, and of the content layer only what registration reads.
    const read = Object.keys(files).filter(
      (path) => isManifestsLayerPath(path) || isKeptFromContentLayer(path),
    );
    expect(Object.keys(result.files).sort()).toEqual(read.sort());
    for (const path of read) {
      expect(result.files[path]?.equals(files[path] ?? Buffer.alloc(0)), `${path} differs`).toBe(true);
    }
    expect(result.config.manifest).toEqual(parse(files['dk.yaml']?.toString('utf8') ?? ''));
  });
});
