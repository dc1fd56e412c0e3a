import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A small RAM file system: a disk that really fills up (ENOSPC), without touching the machine's disks. */
export interface Tmpfs {
  readonly dir: string;
  /** Writes a file until the file system is full; returns its path (delete it to free the space). */
  fill(): string;
  unmount(): void;
}

/**
 * Mounts a tmpfs of `size` (`16m`) on a fresh directory. Needs root (CAP_SYS_ADMIN), which the project's
 * development and CI machines have.
 */
export function mountTmpfs(size: string): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'datakit-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mounting a tmpfs needs root (CAP_SYS_ADMIN): ${String(error)}`, { cause: error });
  }
  return {
    dir,
    fill: () => {
      const path = join(dir, 'filler');
      const fd = openSync(path, 'w');
      try {
        for (const chunk of [65_536, 512]) writeUntilFull(fd, Buffer.alloc(chunk, 1));
      } finally {
        closeSync(fd);
      }
      return path;
    },
    unmount: () => {
      execFileSync('umount', ['--lazy', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function writeUntilFull(fd: number, chunk: Buffer): void {
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'ENOSPC')) throw error;
  }
}
