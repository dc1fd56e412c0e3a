import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalServices, type LocalServicesOptions } from '../../../lib/adapters/local/local-services.js';
import { processStat } from '../../../lib/adapters/local/process-table.js';
import {
  contentLayerSource,
  isProcessAlive,
  nodeTaskSpec,
  parentOfSleeper,
  rejectionOf,
  temporaryDataDir,
  waitUntil,
} from '../../support/local-runner.js';

const worker = "console.log('pid=' + process.pid); setInterval(() => {}, 1000)";
const crasher = 'setTimeout(() => process.exit(1), 20)';

let dataDir: string;
let removeDataDir: () => Promise<void>;
let services: LocalServices;

beforeEach(async () => {
  ({ dataDir, remove: removeDataDir } = await temporaryDataDir());
});
afterEach(async () => {
  await services.close();
  await removeDataDir();
});

function supervisor(options: Partial<LocalServicesOptions> = {}): LocalServices {
  services = new LocalServices({
    dataDir,
    fetchContentLayer: contentLayerSource().fetch,
    resolveSecret: async () => '',
    stopGraceMs: 300,
    ...options,
  });
  return services;
}

/** The pid each replica reported, by replica index (the last one reported wins). */
async function replicaPids(key: string): Promise<Map<number, number>> {
  const pids = new Map<number, number>();
  for (const line of await services.logs(key, 1_000)) {
    const match = /^\[replica (\d+)\] pid=(\d+)$/.exec(line.message);
    if (match) pids.set(Number(match[1]), Number(match[2]));
  }
  return pids;
}

async function notes(key: string): Promise<string[]> {
  return (await services.logs(key, 1_000))
    .filter((line) => line.stream === 'combined')
    .map((line) => line.message);
}

describe('LocalServices', () => {
  it('runs the desired replicas, each in its own process group, and scales them in', async () => {
    const supervised = supervisor();

    const started = await supervised.ensure('dev.local.team.stream', nodeTaskSpec(worker), 2);
    await waitUntil(
      async () => (await replicaPids('dev.local.team.stream')).size === 2,
      'both replicas reported',
    );
    const pids = await replicaPids('dev.local.team.stream');

    expect(started).toMatchObject({ desired: 2, running: 2, restarts: 0, state: 'running' });
    for (const pid of pids.values()) expect(processStat(pid)?.pgrp).toBe(pid);

    const scaled = await supervised.ensure('dev.local.team.stream', nodeTaskSpec(worker), 1);

    expect(scaled).toMatchObject({ desired: 1, running: 1, state: 'running' });
    expect(isProcessAlive(pids.get(0) ?? 0)).toBe(true);
    expect(isProcessAlive(pids.get(1) ?? 0)).toBe(false);
  });

  it('restarts a crashed replica after an exponentially growing, capped delay', async () => {
    const supervised = supervisor({
      backoff: { initialMs: 50, maxMs: 200, stableMs: 60_000 },
      failureThreshold: 20,
    });

    await supervised.ensure('crashing', nodeTaskSpec(crasher), 1);
    await waitUntil(() => (supervised.status('crashing')?.restarts ?? 0) >= 4, 'four restarts');

    expect(supervised.status('crashing')?.lastExitCode).toBe(1);
    const delays = (await notes('crashing'))
      .map((note) => /restarting replica 0 in (\d+) ms/.exec(note)?.[1])
      .filter((delay) => delay !== undefined)
      .slice(0, 4);
    expect(delays).toEqual(['50', '100', '200', '200']);
  });

  it('is failed after a crash loop and restarts nothing more, like an ECS deployment circuit breaker', async () => {
    const supervised = supervisor({ backoff: { initialMs: 20 }, failureThreshold: 3 });

    await supervised.ensure('looping', nodeTaskSpec(crasher), 1);
    await waitUntil(() => supervised.status('looping')?.state === 'failed', 'the service failed');
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(supervised.status('looping')).toEqual({
      desired: 1,
      running: 0,
      restarts: 2,
      lastExitCode: 1,
      lastError: undefined,
      state: 'failed',
    });
    expect((await notes('looping')).at(-1)).toBe(
      '[datakit] 3 crashes in a row: the service is failed and no longer restarted',
    );
  });

  it('starts the backoff and the crash count over for a replica that ran long enough', async () => {
    const supervised = supervisor({ backoff: { initialMs: 20, stableMs: 150 }, failureThreshold: 2 });

    await supervised.ensure('steady', nodeTaskSpec('setTimeout(() => process.exit(4), 250)'), 1);
    await waitUntil(() => (supervised.status('steady')?.restarts ?? 0) >= 3, 'three restarts', 15_000);

    expect(supervised.status('steady')?.state).not.toBe('failed');
    const delays = (await notes('steady')).flatMap(
      (note) => /restarting replica 0 in (\d+) ms/.exec(note)?.[1] ?? [],
    );
    expect(new Set(delays)).toEqual(new Set(['20']));
  });

  it('replaces the replicas when the spec changes, starting the new ones before stopping the old', async () => {
    const supervised = supervisor();
    await supervised.ensure('rolling', nodeTaskSpec(worker), 1);
    await waitUntil(async () => (await replicaPids('rolling')).size === 1, 'the replica reported');
    const old = (await replicaPids('rolling')).get(0) ?? 0;

    const status = await supervised.ensure(
      'rolling',
      nodeTaskSpec(worker, { environment: [{ name: 'VERSION', value: '2' }] }),
      1,
    );
    await waitUntil(async () => (await replicaPids('rolling')).get(0) !== old, 'the new replica reported');

    expect(status).toMatchObject({ desired: 1, running: 1, restarts: 0, state: 'running' });
    expect(isProcessAlive(old)).toBe(false);
    const log = await notes('rolling');
    const newStarted = log.findIndex((note) => /replica 0 of generation 2 started/.test(note));
    const oldStopped = log.findIndex((note) =>
      note.endsWith(`replica 0 of generation 1 stopped (pid ${old})`),
    );
    expect(newStarted).toBeGreaterThan(-1);
    expect(oldStopped).toBeGreaterThan(newStarted);
  });

  it('kills every replica, children included, when the service is removed', async () => {
    const supervised = supervisor();
    const pidsFile = join(dataDir, 'pids.json');
    await supervised.ensure(
      'removed',
      nodeTaskSpec(parentOfSleeper(), { environment: [{ name: 'PIDS', value: pidsFile }] }),
      1,
    );
    await waitUntil(() => existsSync(pidsFile), 'the replica recorded its pids');
    const pids = JSON.parse(readFileSync(pidsFile, 'utf8')) as number[];

    await supervised.remove('removed');

    expect(pids.filter(isProcessAlive)).toEqual([]);
    expect(supervised.status('removed')).toBeUndefined();
  });

  it('refuses a spec it cannot start, starting nothing', async () => {
    const supervised = supervisor();

    const error = await rejectionOf(
      supervised.ensure('no-command', nodeTaskSpec('', { command: undefined }), 2),
    );

    expect(error.name).toBe('RUN_NO_LOCAL_COMMAND');
    expect(supervised.status('no-command')).toBeUndefined();
  });

  it('stops every service on close', async () => {
    const supervised = supervisor();
    await supervised.ensure('closing', nodeTaskSpec(worker), 2);
    await waitUntil(async () => (await replicaPids('closing')).size === 2, 'both replicas reported');
    const pids = [...(await replicaPids('closing')).values()];

    await supervised.close();

    expect(pids.filter(isProcessAlive)).toEqual([]);
  });
});
