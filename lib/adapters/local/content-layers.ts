import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { cp, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ArchiveError, type ArchiveLimits, readTarGz } from '../../domain/registry/archive.js';
import type { TaskPackage } from '../../ports/task-control.js';
import { TaskStateError } from './task-state-error.js';

/** Fetches the content layer (a gzip-compressed tar) of a package's artifact. */
export type ContentLayerFetcher = (pkg: TaskPackage) => Promise<Buffer>;

const digestPattern = /^sha256:([a-f0-9]{64})$/;
const unpackingPrefix = '.unpacking-';
/**
 * Marks the temporary directories of this process, so the sweep spares those another instance in the same
 * process (runs and services each have one) is writing right now; a pid could be the previous one's too.
 */
const processToken = randomUUID();

/**
 * Content layers of packages unpacked on disk, once per package digest, under `{root}/{digest hex}/`.
 *
 * The archive is read by the registry's own reader (`readTarGz`) with the same limits registration applied,
 * so the same path rules hold (no absolute paths, no `..`, no links, no devices, no duplicates) and every
 * registered package unpacks. Files are written into a temporary directory renamed into place at the end:
 * a crash leaves a `.unpacking-*` directory (swept at the next unpack), never a half-filled cache entry.
 */
export class ContentLayers {
  private readonly unpacking = new Map<string, Promise<string>>();
  private swept: Promise<void> | undefined;

  constructor(
    private readonly root: string,
    private readonly fetch: ContentLayerFetcher,
    private readonly limits: Partial<ArchiveLimits> = {},
  ) {}

  /** The directory holding the package's content layer, unpacked now if it is not yet. */
  unpacked(pkg: TaskPackage): Promise<string> {
    const hex = digestPattern.exec(pkg.digest)?.[1];
    if (hex === undefined) {
      return Promise.reject(
        new TaskStateError(
          'RUN_PACKAGE_DIGEST_INVALID',
          `package digest ${pkg.digest} is not sha256:<64 hex>`,
        ),
      );
    }
    let pending = this.unpacking.get(hex);
    if (pending === undefined) {
      pending = this.unpack(pkg, hex);
      this.unpacking.set(hex, pending);
      // A failed unpack is retried by the next run rather than remembered.
      pending.catch(() => this.unpacking.delete(hex));
    }
    return pending;
  }

  /**
   * A private, writable copy of the package's content for one task at `target` (which must not exist):
   * a Transform may write into its working directory, and must not change what the next run starts from.
   * Copies are reflinks where the filesystem supports them.
   */
  async workingCopy(pkg: TaskPackage, target: string): Promise<void> {
    const source = await this.unpacked(pkg);
    await mkdir(dirname(target), { recursive: true });
    await cp(source, target, {
      recursive: true,
      errorOnExist: true,
      force: false,
      mode: constants.COPYFILE_FICLONE,
    });
  }

  private async unpack(pkg: TaskPackage, hex: string): Promise<string> {
    const target = join(this.root, hex);
    if (await exists(target)) return target;
    this.swept ??= this.sweep();
    await this.swept;

    const files = await this.read(pkg);
    const temporary = join(this.root, `${unpackingPrefix}${processToken}-${hex}-${randomUUID()}`);
    try {
      await writeFiles(temporary, files);
    } catch (error) {
      await rm(temporary, { recursive: true, force: true });
      throw new TaskStateError(
        'RUN_CONTENT_LAYER_INVALID',
        `the content layer of ${describe(pkg)} cannot be written to disk: ${messageOf(error)}`,
        { cause: error },
      );
    }
    try {
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { recursive: true, force: true });
      // Someone renamed the same digest into place first: that copy is as good as ours.
      if (!(hasCode(error, 'ENOTEMPTY') || hasCode(error, 'EEXIST'))) throw error;
    }
    return target;
  }

  private async read(pkg: TaskPackage): Promise<Map<string, Buffer>> {
    const bytes = await this.fetch(pkg);
    try {
      return await readTarGz(bytes, this.limits);
    } catch (error) {
      throw new TaskStateError(
        'RUN_CONTENT_LAYER_INVALID',
        `the content layer of ${describe(pkg)} cannot be unpacked: ${
          error instanceof ArchiveError ? `${error.code}: ${error.message}` : messageOf(error)
        }`,
        { cause: error },
      );
    }
  }

  /** Removes what crashed unpacks left behind (one control plane per data directory: only ours are live). */
  private async sweep(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const entries = await readdir(this.root);
    await Promise.all(
      entries
        .filter(
          (entry) =>
            entry.startsWith(unpackingPrefix) && !entry.startsWith(`${unpackingPrefix}${processToken}`),
        )
        .map((entry) => rm(join(this.root, entry), { recursive: true, force: true })),
    );
  }
}

/** Writes every file; `wx` refuses a path written twice, and a file where a directory must go fails mkdir. */
async function writeFiles(root: string, files: ReadonlyMap<string, Buffer>): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const [path, bytes] of files) {
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, bytes, { flag: 'wx' });
  }
}

function describe(pkg: TaskPackage): string {
  return `${pkg.namespace}/${pkg.name}@${pkg.version}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return false;
    throw error;
  }
}

function hasCode(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}
