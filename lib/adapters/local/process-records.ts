import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

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
  if (survivorsOf(record).length > 0) {
    signalGroup(record.pgid, 'SIGTERM');
    const deadline = Date.now() + options.graceMs;
    while (survivorsOf(record).length > 0 && Date.now() < deadline) await sleep(pollMs);
    if (survivorsOf(record).length > 0) signalGroup(record.pgid, 'SIGKILL');
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

interface ProcessStat {
  readonly pid: number;
  readonly state: string;
  readonly pgrp: number;
  readonly startTime: number;
}

/** Reads `/proc/{pid}/stat`; undefined when the process does not exist (or there is no /proc). */
export function processStat(pid: number): ProcessStat | undefined {
  let text: string;
  try {
    // Synchronous on purpose: /proc reads do not touch a disk, and a scan reads hundreds of tiny files.
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: the fields that follow start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const startTime = Number(fields[19]);
  if (state === undefined || !Number.isInteger(pgrp) || !Number.isInteger(startTime)) return undefined;
  return { pid, state, pgrp, startTime };
}

function listPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
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
