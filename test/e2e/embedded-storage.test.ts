import { mkdtempSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../support/control-plane-process.js';
import { runEvent, runId } from '../support/lineage.js';
import { mountTmpfs, type Tmpfs } from '../support/tmpfs.js';

function postLineageEvent(url: string): Promise<Response> {
  const event = runEvent({
    eventTime: '2026-11-01T00:00:00.000Z',
    runId: runId(),
    job: { namespace: 'e2e-storage', name: 'job' },
    outputs: [{ namespace: 'e2e-storage', name: 'out' }],
  });
  return fetch(`${url}/api/v1/lineage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
}

function listing(dir: string): Record<string, number> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, statSync(join(dir, name)).size]));
}

describe('npm start on a data directory that lost its CURRENT file', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'datakit-e2e-no-current-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses to start, exits non-zero with a message naming the directory, and deletes nothing', async () => {
    const first = await startControlPlaneProcess(dataDir);
    expect((await postLineageEvent(first.url)).status).toBe(201);
    await first.stop('SIGTERM');
    unlinkSync(join(dataDir, 'CURRENT'));
    const before = listing(dataDir);

    const refused = startControlPlaneProcess(dataDir);

    await expect(refused).rejects.toThrow(/exited early \(1\)/);
    await expect(refused).rejects.toThrow(`control plane did not start: The data directory ${dataDir}`);
    await expect(refused).rejects.toThrow('no CURRENT file');
    expect(listing(dataDir)).toEqual(before);
  });
});

describe('npm start on a disk that fills up', () => {
  let disk: Tmpfs;
  let plane: ControlPlaneProcess | undefined;
  beforeAll(() => {
    disk = mountTmpfs('16m');
  });
  afterAll(async () => {
    try {
      await plane?.stop('SIGKILL');
    } finally {
      disk.unmount();
    }
  });

  it('keeps running: writes answer 503, reads and /healthz answer', async () => {
    plane = await startControlPlaneProcess(join(disk.dir, 'data'));
    expect((await postLineageEvent(plane.url)).status).toBe(201);
    disk.fill();

    const write = await postLineageEvent(plane.url);
    expect(write.status).toBe(503);
    expect(await write.json()).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect((await fetch(`${plane.url}/api/v1/namespaces/e2e-storage/jobs`)).status).toBe(200);
    expect((await fetch(`${plane.url}/healthz`)).status).toBe(503);
    expect(plane.child.exitCode).toBeNull();
  });
});
