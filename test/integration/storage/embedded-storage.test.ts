import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedControlPlane, startEmbeddedControlPlane } from '../../../lambdas/embedded.js';
import { packageHeadItem } from '../../../lib/adapters/dynamodb/package-heads.js';
import {
  type EmbeddedDynamoDb,
  EmbeddedStorageError,
  startEmbeddedDynamoDb,
} from '../../../lib/adapters/local/dynamodb-server.js';
import { runEvent, runId } from '../../support/lineage.js';
import { mountTmpfs, type Tmpfs } from '../../support/tmpfs.js';

const silent = { port: 0, logLevel: 'SILENT' } as const;

function head(name: string) {
  return packageHeadItem({
    namespace: 'analytics',
    name,
    kind: 'Transform',
    latestVersion: '0.1.0',
    labels: {},
    versions: {},
    updatedAt: '2026-11-01T00:00:00.000Z',
    revision: 1,
  });
}

function postLineageEvent(url: string): Promise<Response> {
  const event = runEvent({
    eventTime: '2026-11-01T00:00:00.000Z',
    runId: runId(),
    job: { namespace: 'storage-test', name: 'job' },
    outputs: [{ namespace: 'storage-test', name: 'out' }],
  });
  return fetch(`${url}/api/v1/lineage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
}

async function packageNames(url: string): Promise<string[]> {
  const response = await fetch(`${url}/v1/packages`);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { items: { name: string }[] };
  return body.items.map((item) => item.name);
}

async function expectStorageUnavailable(response: Response): Promise<{ detail: string }> {
  expect(response.status).toBe(503);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.headers.get('retry-after')).toBe('1');
  const body = (await response.json()) as { code: string; detail: string };
  expect(body.code).toBe('STORAGE_UNAVAILABLE');
  return body;
}

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

describe('the embedded storage on a full disk', () => {
  let disk: Tmpfs;
  let plane: EmbeddedControlPlane | undefined;
  let filler: string | undefined;

  beforeAll(() => {
    disk = mountTmpfs('16m');
  });
  afterAll(async () => {
    try {
      await plane?.close();
    } finally {
      disk.unmount();
    }
  });

  it('answers writes with 503 STORAGE_UNAVAILABLE, keeps serving reads, and says so on /healthz', async () => {
    plane = await startEmbeddedControlPlane({ ...silent, dataDir: join(disk.dir, 'data') });
    await plane.deps.table.put(head('written-before'));
    filler = disk.fill();

    await expectStorageUnavailable(await postLineageEvent(plane.url));

    expect(await packageNames(plane.url)).toEqual(['written-before']);
    const health = await expectStorageUnavailable(await fetch(`${plane.url}/healthz`));
    expect(health.detail).toContain('No space left on device');
    expect(health.detail).toContain('writes are refused until the control plane restarts');
    expect((await fetch(`${plane.url}/openapi.json`)).status).toBe(200);
  });

  it('keeps refusing writes after space is freed, and accepts them again after a restart', async () => {
    if (plane === undefined || filler === undefined) throw new Error('the previous test did not run');
    unlinkSync(filler);
    await expectStorageUnavailable(await postLineageEvent(plane.url));

    await plane.close();
    plane = await startEmbeddedControlPlane({ ...silent, dataDir: join(disk.dir, 'data') });

    expect((await postLineageEvent(plane.url)).status).toBe(201);
    expect(await packageNames(plane.url)).toEqual(['written-before']);
    expect((await fetch(`${plane.url}/healthz`)).status).toBe(200);
  });
});

describe('the embedded storage with a damaged table file', () => {
  const dataDir = tempDir('datakit-damaged-');
  let plane: EmbeddedControlPlane | undefined;
  afterAll(async () => {
    await plane?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers what the file holds with 503, keeps serving the rest, and says so on /healthz', async () => {
    // Three starts: the table definition lands in one table file, the packages in a second.
    await (await startEmbeddedControlPlane({ ...silent, dataDir })).close();
    const writer = await startEmbeddedControlPlane({ ...silent, dataDir });
    for (const name of ['enrich', 'publish', 'score']) await writer.deps.table.put(head(name));
    await writer.close();
    await (await startEmbeddedControlPlane({ ...silent, dataDir })).close();
    const newest = readdirSync(dataDir)
      .filter((name) => name.endsWith('.ldb'))
      .sort()
      .at(-1);
    if (newest === undefined) throw new Error('LevelDB wrote no table file');
    overwrite(join(dataDir, newest));

    plane = await startEmbeddedControlPlane({ ...silent, dataDir });

    await expectStorageUnavailable(await fetch(`${plane.url}/v1/packages`));
    await expectStorageUnavailable(await fetch(`${plane.url}/v1/packages/analytics/enrich`));
    const health = await expectStorageUnavailable(await fetch(`${plane.url}/healthz`));
    expect(health.detail).toContain('damaged file');
    expect((await fetch(`${plane.url}/openapi.json`)).status).toBe(200);
  });
});

describe('the embedded storage worker', () => {
  let dataDir: string;
  let storage: EmbeddedDynamoDb | undefined;
  let plane: EmbeddedControlPlane | undefined;
  beforeEach(() => {
    dataDir = tempDir('datakit-worker-');
  });
  afterEach(async () => {
    await plane?.close();
    await storage?.close();
    plane = undefined;
    storage = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('closes the LevelDB iterator of every query, whether it reads a partition to the end or stops at the limit', async () => {
    plane = await startEmbeddedControlPlane({ ...silent, dataDir });
    for (const name of ['a', 'b', 'c', 'd', 'e']) await plane.deps.table.put(head(name));

    for (let round = 0; round < 25; round++) {
      expect((await fetch(`${plane.url}/v1/packages?limit=2`)).status).toBe(200);
      expect((await fetch(`${plane.url}/v1/packages`)).status).toBe(200);
    }

    expect((await plane.storage.stats()).openIterators).toBe(0);
  });

  it('outlives a client that hangs up in the middle of a request', async () => {
    storage = await startEmbeddedDynamoDb({ dataDir });
    const { port } = new URL(storage.endpoint);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.0\r\n' +
        'X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 1000\r\n\r\n{"Limit":',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => socket.destroy().once('close', resolve));
    // Time for the worker to see the hang-up; it had died of it, and taken this process with it.
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect((await storage.stats()).restarts).toBe(0);
    expect(await storage.health()).toEqual({ status: 'ok' });
  });

  it('is restarted on the same port, with its data, when it dies', async () => {
    plane = await startEmbeddedControlPlane({ ...silent, dataDir });
    await plane.deps.table.put(head('kept'));
    const endpoint = plane.deps.config.DYNAMODB_ENDPOINT;
    if (endpoint === undefined) throw new Error('the embedded control plane has no DynamoDB endpoint');

    // dynalite throws on a body of `null`: an uncaught exception that ends its thread.
    await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.GetItem',
        'x-amz-date': '20260101T000000Z',
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: 'null',
    }).catch(() => undefined);

    const deadline = Date.now() + 20_000;
    while ((await plane.storage.health()).status !== 'ok' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await plane.storage.stats()).restarts).toBe(1);
    expect(await packageNames(plane.url)).toEqual(['kept']);
    expect((await fetch(`${plane.url}/healthz`)).status).toBe(200);
  });
});

describe('a data directory that lost its CURRENT file', () => {
  const dataDir = tempDir('datakit-no-current-');
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is refused, naming the directory and what to do, and nothing in it is changed', async () => {
    const plane = await startEmbeddedControlPlane({ ...silent, dataDir });
    for (const name of ['enrich', 'publish']) await plane.deps.table.put(head(name));
    await plane.close();
    unlinkSync(join(dataDir, 'CURRENT'));
    const before = listing(dataDir);

    const refused = startEmbeddedControlPlane({ ...silent, dataDir });

    await expect(refused).rejects.toBeInstanceOf(EmbeddedStorageError);
    await expect(refused).rejects.toThrow(`The data directory ${dataDir} holds LevelDB files`);
    await expect(refused).rejects.toThrow('no CURRENT file');
    expect(listing(dataDir)).toEqual(before);
  });

  it('opens with every package after the repair that docs/operations.md gives', async () => {
    // The command of docs/operations.md, "Embedded storage", run from the project directory.
    execFileSync('node', [
      '-e',
      "require('classic-level').ClassicLevel.repair(process.argv[1]).then(() => console.log('repaired'))",
      dataDir,
    ]);

    const plane = await startEmbeddedControlPlane({ ...silent, dataDir });
    try {
      expect(await packageNames(plane.url)).toEqual(['enrich', 'publish']);
    } finally {
      await plane.close();
    }
  });
});

/** Every file of a directory with its size. */
function listing(dir: string): Record<string, number> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, statSync(join(dir, name)).size]));
}

/** Overwrites a file with junk of the same size. */
function overwrite(path: string): void {
  const size = statSync(path).size;
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Buffer.alloc(size, 0x5a), 0, size, 0);
  } finally {
    closeSync(fd);
  }
}
