import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedControlPlane } from '../../../lambdas/embedded.js';
import { packageHeadItem } from '../../../lib/adapters/dynamodb/package-heads.js';

const dataDir = mkdtempSync(join(tmpdir(), 'datakit-persist-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('the embedded control plane', () => {
  it('finds the data of a previous start in the same data directory', async () => {
    const first = await startEmbeddedControlPlane({ port: 0, dataDir, logLevel: 'SILENT' });
    await first.deps.table.put(
      packageHeadItem({
        namespace: 'analytics',
        name: 'enrich',
        kind: 'Transform',
        latestVersion: '0.1.0',
        labels: {},
        versions: {
          '0.1.0': {
            digest: `sha256:${'b'.repeat(64)}`,
            registeredAt: '2026-11-01T00:00:00.000Z',
            registrationId: 'r-1',
          },
        },
        updatedAt: '2026-11-01T00:00:00.000Z',
        revision: 1,
      }),
    );
    await first.close();

    const second = await startEmbeddedControlPlane({ port: 0, dataDir, logLevel: 'SILENT' });
    try {
      const body = (await (await fetch(`${second.url}/v1/packages`)).json()) as { items: { name: string }[] };
      expect(body.items.map((item) => item.name)).toEqual(['enrich']);
    } finally {
      await second.close();
    }
  });
});
