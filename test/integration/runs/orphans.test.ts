import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalTasks } from '../../../lib/adapters/local/local-tasks.js';
import { processStat } from '../../../lib/adapters/local/process-table.js';
import {
  contentLayerSource,
  isProcessAlive,
  temporaryDataDir,
  waitUntil,
} from '../../support/local-runner.js';

let dataDir: string;
let removeDataDir: () => Promise<void>;
const strays: number[] = [];

beforeEach(async () => {
  ({ dataDir, remove: removeDataDir } = await temporaryDataDir());
});
afterEach(async () => {
  for (const pid of strays.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone, which is what the tests expect.
    }
  }
  await removeDataDir();
});

function nextControlPlane(): LocalTasks {
  return new LocalTasks({
    dataDir,
    fetchContentLayer: contentLayerSource().fetch,
    resolveSecret: async () => '',
    stopGraceMs: 300,
  });
}

/** Starts `command` in its own group, as the runner does, and returns its pid once its start time is known. */
function detached(command: string, args: string[]): number {
  const child = spawn(command, args, { detached: true, stdio: 'ignore' });
  if (child.pid === undefined) throw new Error(`${command} did not start`);
  strays.push(child.pid);
  return child.pid;
}

function writeRecord(runId: string, record: object): void {
  mkdirSync(join(dataDir, 'runs'), { recursive: true });
  writeFileSync(join(dataDir, 'runs', `${runId}.pid`), JSON.stringify(record));
}

describe('runs a crashed control plane left behind', () => {
  it('are found and killed, group and all (SIGKILL after the grace period), by the next control plane on the data directory', async () => {
    const pidsFile = join(dataDir, 'pids.json');
    const host = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/local-runner-host.ts', dataDir, 'run-orphan', pidsFile],
      { stdio: 'ignore' },
    );
    await waitUntil(
      () => existsSync(pidsFile) && existsSync(join(dataDir, 'runs', 'run-orphan.pid')),
      'the host started its run',
      20_000,
    );
    const pids = JSON.parse(readFileSync(pidsFile, 'utf8')) as number[];
    for (const pid of pids) strays.push(pid);
    host.kill('SIGKILL');
    await new Promise((resolve) => host.once('exit', resolve));
    expect(pids.filter(isProcessAlive)).toEqual(pids);

    const found = await nextControlPlane().recoverOrphans();

    expect(found).toEqual(['run-orphan']);
    expect(pids.filter(isProcessAlive)).toEqual([]);
    expect(existsSync(join(dataDir, 'runs', 'run-orphan.pid'))).toBe(false);
    expect(await nextControlPlane().recoverOrphans()).toEqual([]);
  });

  it('are killed when only the leader died and its children remain in the group', async () => {
    const leader = detached('sh', ['-c', `sleep 30 & echo $! > ${join(dataDir, 'child.pid')}; sleep 0.3`]);
    const startTime = processStat(leader)?.startTime;
    await waitUntil(() => !isProcessAlive(leader), 'the leader exited');
    const child = Number(readFileSync(join(dataDir, 'child.pid'), 'utf8'));
    expect(isProcessAlive(child)).toBe(true);
    writeRecord('run-leaderless', {
      owner: 'run-leaderless',
      pid: leader,
      pgid: leader,
      startTime,
      startedAt: new Date().toISOString(),
      runner: 'subprocess',
    });

    expect(await nextControlPlane().recoverOrphans()).toEqual(['run-leaderless']);

    expect(isProcessAlive(child)).toBe(false);
  });

  it('are reported but not killed when the recorded pid now belongs to another process', async () => {
    const other = detached('sleep', ['30']);
    const actual = processStat(other)?.startTime ?? 0;
    writeRecord('run-reused-pid', {
      owner: 'run-reused-pid',
      pid: other,
      pgid: other,
      startTime: actual + 1,
      startedAt: new Date().toISOString(),
      runner: 'subprocess',
    });

    expect(await nextControlPlane().recoverOrphans()).toEqual(['run-reused-pid']);

    expect(isProcessAlive(other)).toBe(true);
  });
});
