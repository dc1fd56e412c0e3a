import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskDefinitionSpec, TaskPackage } from '../../lib/ports/task-control.js';
import { type TarEntry, tarGz } from './dk-artifact.js';

/** A package whose digest is derived from `seed`, so tests can have several distinct ones. */
export function taskPackage(seed = 'job'): TaskPackage {
  return {
    namespace: 'team',
    name: seed,
    version: '1.0.0',
    digest: `sha256:${createHash('sha256').update(seed).digest('hex')}`,
    repository: 'localhost:5000/team/job',
  };
}

/** A task definition running `node -e <script>` in the local cell. */
export function nodeTaskSpec(
  script: string,
  overrides: Partial<TaskDefinitionSpec> = {},
): TaskDefinitionSpec {
  return {
    family: 'datakit-local-team-job',
    cell: 'local',
    runtime: { kind: 'local' },
    package: taskPackage(),
    command: [process.execPath, '-e', script],
    environment: [],
    secrets: [],
    cpu: 256,
    memory: 512,
    timeoutSeconds: 30,
    tags: {},
    ...overrides,
  };
}

/**
 * A `node -e` statement writing both pids to $PIDS atomically (a rename): tests wait for the file to exist,
 * then read it, and a file created but not yet written would read empty.
 */
export const recordPids = `
    const fs = require('node:fs');
    fs.writeFileSync(process.env.PIDS + '.tmp', JSON.stringify([process.pid, sleeper.pid]));
    fs.renameSync(process.env.PIDS + '.tmp', process.env.PIDS);`;

/** A `node -e` script that starts a grandchild `sleep`, records both pids in $PIDS, and keeps running. */
export function parentOfSleeper(options: { ignoreTerm?: boolean } = {}): string {
  return `
    const sleeper = require('node:child_process').spawn('sleep', ['30'], { stdio: 'ignore' });
    ${options.ignoreTerm === true ? "process.on('SIGTERM', () => {});" : ''}
    ${recordPids}
    setInterval(() => {}, 1000);
  `;
}

/** The Parameters the RunTask state hands the local runner, as the run state machine builds them. */
export function runTaskParameters(
  runId: string,
  taskDefinition: string,
  environment: Readonly<Record<string, string>> = {},
) {
  return {
    Cluster: 'local',
    TaskDefinition: taskDefinition,
    LaunchType: 'FARGATE',
    Tags: [{ Key: 'datakit:run-id', Value: runId }],
    NetworkConfiguration: {},
    Overrides: {
      ContainerOverrides: [
        {
          Name: 'transform',
          Environment: Object.entries(environment).map(([Name, Value]) => ({ Name, Value })),
        },
      ],
    },
    PropagateTags: 'TASK_DEFINITION',
  };
}

/** Serves content layers built from `files` (the same layer for every package) and counts the fetches. */
export function contentLayerSource(entries: readonly TarEntry[] = [{ name: 'main.js', contents: '' }]) {
  const fetched: TaskPackage[] = [];
  return {
    fetched,
    fetch: async (pkg: TaskPackage): Promise<Buffer> => {
      fetched.push(pkg);
      return tarGz(entries);
    },
  };
}

/** A fresh temporary data directory and its removal. */
export async function temporaryDataDir(): Promise<{ dataDir: string; remove: () => Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'dk-local-runner-'));
  return { dataDir, remove: () => rm(dataDir, { recursive: true, force: true }) };
}

/** Whether a process exists and is not a zombie (a killed process whose parent has not reaped it is dead). */
export function isProcessAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Polls until `condition` holds; fails with `what` after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected a rejection, but the promise resolved');
}
