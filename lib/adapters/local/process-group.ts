import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { liveGroupMembers } from './process-table.js';

/** How the group's leader ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What a process receives to start. */
export interface ProcessGroupCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly onStdout: (chunk: Buffer) => void;
  readonly onStderr: (chunk: Buffer) => void;
}

/** How long to wait for stdout/stderr to drain after the group is gone, when something escaped the group. */
const drainTimeoutMs = 2_000;
const pollMs = 10;

/** A container's exit code for a process ended by a signal (128 + signal number, as docker reports it). */
export function exitCodeOf(exit: ProcessExit): number {
  if (exit.code !== null) return exit.code;
  const number = exit.signal === null ? undefined : constants.signals[exit.signal];
  return 128 + (number ?? 0);
}

/**
 * One process in its own process group (a new session: `detached`), treated like a container: when the
 * leader exits, whatever it left running in its group is killed, and stopping it signals the whole group.
 */
export class ProcessGroup {
  /** Resolves once the leader has exited, the rest of its group is killed and its output is drained. */
  readonly exited: Promise<ProcessExit>;

  private constructor(
    child: ChildProcess,
    readonly pid: number,
  ) {
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.exited = new Promise<ProcessExit>((resolve) => {
      child.once('exit', (code, signal) => {
        // A container's processes die with its main process; so do the leader's children here.
        this.signal('SIGKILL');
        const drained = settlesWithin(closed, drainTimeoutMs).then((inTime) => {
          if (inTime) return;
          // Something left the group (setsid) and holds the pipes open: stop listening, do not wait forever.
          child.stdout?.destroy();
          child.stderr?.destroy();
        });
        void Promise.all([drained, this.emptied()]).then(() => resolve({ code, signal }));
      });
    });
  }

  /**
   * Resolves once no live process is left in the group (a signal is delivered, not acted on, when kill
   * returns), so "exited" means nothing of the task runs any more. Zombies count as gone: their parent,
   * not us, has to reap them.
   */
  private async emptied(): Promise<void> {
    const deadline = Date.now() + drainTimeoutMs;
    while (Date.now() < deadline) {
      // The usual case costs one kill(2): once the leader is reaped, a group nothing else joined is gone.
      // Only a group that still exists needs the scan of /proc that tells live members from zombies.
      if (!groupExists(this.pid)) return;
      const members = liveGroupMembers(this.pid);
      if (members !== undefined && members.length === 0) return;
      this.signal('SIGKILL');
      await sleep(pollMs);
    }
  }

  /** Starts the command; rejects when it cannot start at all (command not found, bad working directory). */
  static start(command: ProcessGroupCommand): Promise<ProcessGroup> {
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(command.command, [...command.args], {
          cwd: command.cwd,
          env: command.env,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (error) {
        reject(error);
        return;
      }
      child.stdout?.on('data', command.onStdout);
      child.stderr?.on('data', command.onStderr);
      child.once('error', reject);
      child.once('spawn', () => {
        child.off('error', reject);
        // The pid exists once 'spawn' fired.
        if (child.pid === undefined) reject(new Error('the process started without a pid'));
        else resolve(new ProcessGroup(child, child.pid));
      });
    });
  }

  /**
   * Sends a signal to every process of the group. A group already gone (ESRCH) is not an error, nor is one
   * we may not signal (EPERM): that id then names someone else's group, which is not ours to stop.
   */
  signal(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? error.code : undefined;
      if (code !== 'ESRCH' && code !== 'EPERM') throw error;
    }
  }

  /** SIGTERM to the group, SIGKILL after `graceMs` if the leader is still there; resolves when it is gone. */
  async stop(graceMs: number): Promise<ProcessExit> {
    this.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace over'>((resolve) => {
      timer = setTimeout(() => resolve('grace over'), graceMs);
    });
    const first = await Promise.race([this.exited, graceOver]);
    clearTimeout(timer);
    if (first === 'grace over') this.signal('SIGKILL');
    return this.exited;
  }
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether `promise` settles within `ms` (no timer left behind either way). */
async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const outcome = await Promise.race([promise.then(() => true as const), late]);
  clearTimeout(timer);
  return outcome;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
