import { execFile } from 'node:child_process';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { listPids, type ProcessStat, processStat } from './process-table.js';

/**
 * Files recording the process groups this control plane started (`{dir}/{id}.pid`), so that the next one
 * can find what a crash left running. A record is written when the process starts and removed once its
 * group is gone; a record found at startup therefore names a task whose control plane died.
 */

const recordSchema = z.object({
  /** What the process belongs to: a run id, or a service key. */
  owner: z.string().min(1),
  pid: z.number().int().positive(),
  pgid: z.number().int().positive(),
  /** The leader's start time in clock ticks after boot (`/proc/{pid}/stat` field 22): a pid's identity. */
  startTime: z.number().int().nonnegative().optional(),
  startedAt: z.string(),
  runner: z.enum(['subprocess', 'docker']),
  /** Docker mode: the container's name, removed too (killing the CLI does not stop a container). */
  container: z.string().optional(),
});

export type ProcessRecord = z.infer<typeof recordSchema>;

/** How a leftover group is ended. */
export interface ReapOptions {
  readonly graceMs: number;
  readonly dockerCommand: string;
  readonly dockerEnvironment: Readonly<Record<string, string>>;
}

const pollMs = 50;
/** How long SIGKILL may take to act before we stop waiting for it. */
const killWaitMs = 2_000;

export class ProcessRecords {
  constructor(private readonly dir: string) {}

  async write(id: string, record: ProcessRecord): Promise<void> {
    const file = join(this.dir, `${id}.pid`);
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(record));
    await rename(temporary, file);
  }

  async remove(id: string): Promise<void> {
    await rm(join(this.dir, `${id}.pid`), { force: true });
  }

  /**
   * Ends every recorded group still alive and verifiably the one recorded (see `survivorsOf`), removes the
   * records, and returns the owners found, whether their processes were still alive or not.
   */
  async reap(options: ReapOptions): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return [];
      throw error;
    }
    const owners = new Set<string>();
    // A `.tmp` is a record whose write the crash interrupted: its process may have started, but it names nothing.
    await Promise.all(
      entries
        .filter((name) => /\.pid\.\d+\.tmp$/.test(name))
        .map((name) => rm(join(this.dir, name), { force: true })),
    );
    for (const entry of entries.filter((name) => name.endsWith('.pid'))) {
      const file = join(this.dir, entry);
      const record = await readRecord(file);
      if (record !== undefined) {
        owners.add(record.owner);
        await endGroup(record, options);
      }
      await rm(file, { force: true });
    }
    return [...owners];
  }
}

async function readRecord(file: string): Promise<ProcessRecord | undefined> {
  try {
    const parsed = recordSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    // A record cut short by the crash it is meant to survive names nothing we can verify.
    return undefined;
  }
}

async function endGroup(record: ProcessRecord, options: ReapOptions): Promise<void> {
  // SIGTERM, then SIGKILL after the grace period; both waited for, so callers see the group gone.
  if (await signalUntilGone(record, 'SIGTERM', options.graceMs)) {
    await signalUntilGone(record, 'SIGKILL', killWaitMs);
  }
  if (record.container !== undefined) {
    await new Promise<void>((resolve) => {
      // Best effort: the container may be gone, or docker unavailable; neither blocks the restart.
      execFile(
        options.dockerCommand,
        ['rm', '--force', record.container ?? ''],
        { env: options.dockerEnvironment },
        () => resolve(),
      );
    });
  }
}

/**
 * The live (non-zombie) processes of the recorded group, provided it is still ours: the leader still runs
 * with the recorded start time, or — the leader gone — members remain in its group. Linux never hands out
 * a pid still in use as a process group id, so a group whose leader id is not a live process is the
 * original group; members started before the recorded leader cannot be ours and are excluded anyway.
 * Without `/proc` (not Linux) nothing can be verified and nothing is killed.
 */
export function survivorsOf(record: ProcessRecord): number[] {
  const leader = processStat(record.pid);
  if (leader !== undefined && leader.startTime !== record.startTime) return [];
  const recordedStart = record.startTime ?? 0;
  return listPids()
    .map(processStat)
    .filter(
      (stat): stat is ProcessStat =>
        stat !== undefined &&
        stat.pgrp === record.pgid &&
        stat.state !== 'Z' &&
        stat.startTime >= recordedStart,
    )
    .map((stat) => stat.pid);
}

/** Signals the group until none of it survives or `ms` pass; true when some of it is still alive. */
async function signalUntilGone(record: ProcessRecord, signal: NodeJS.Signals, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  let sent = false;
  while (survivorsOf(record).length > 0) {
    if (Date.now() >= deadline) return true;
    // One SIGTERM (a handler may be shutting down gracefully); SIGKILL again for anything forked meanwhile.
    if (!sent || signal === 'SIGKILL') signalGroup(record.pgid, signal);
    sent = true;
    await sleep(pollMs);
  }
  return false;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
