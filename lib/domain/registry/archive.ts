/** Reading a gzip-compressed tar is pure computation over bytes already fetched (no I/O), so it is domain code. */
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { type Extract, extract } from 'tar-stream';
import type { ArchiveCode } from './codes.js';

/**
 * Hard bounds on what reading an archive may cost; every one is enforced before or while inflating.
 * Memory is bounded by what is kept (`maxKeptBytes`), never by what is inflated: files that are not
 * kept are read past chunk by chunk, so `maxUncompressedBytes` bounds time, not memory.
 */
export interface ArchiveLimits {
  /** Bytes of gzip input accepted at all. */
  readonly maxCompressedBytes: number;
  /** Bytes inflated in total (tar framing and files read past included); inflating stops the moment this is crossed. */
  readonly maxUncompressedBytes: number;
  /** Bytes of any single kept file, refused from its header before it is read. */
  readonly maxFileBytes: number;
  /** Bytes of all kept files together. */
  readonly maxKeptBytes: number;
  /** Entries of any type, directories and files read past included. */
  readonly maxEntries: number;
}

/**
 * Defaults sized for DataKit packages (YAML, SQL, small sources), so that one read costs a few MiB of
 * memory and a fraction of a second whatever the archive; docs/adr/0007-bounded-artifact-reads.md.
 */
export const defaultArchiveLimits: ArchiveLimits = {
  maxCompressedBytes: 16 * 1024 * 1024,
  maxUncompressedBytes: 64 * 1024 * 1024,
  maxFileBytes: 1024 * 1024,
  maxKeptBytes: 4 * 1024 * 1024,
  maxEntries: 10_000,
};

/** Which files of an archive to keep, by normalised path; the others are read past, never buffered. */
export type KeepFile = (path: string) => boolean;

const keepEveryFile: KeepFile = () => true;

/** An archive refused for a stated reason; `path` names the offending entry when there is one. */
export class ArchiveError extends Error {
  constructor(
    readonly code: ArchiveCode,
    message: string,
    readonly path?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ArchiveError';
  }
}

/**
 * Reads a gzip-compressed tar as a stream into a map of normalised path → bytes of the files `keep`
 * selects (by default all), or throws ArchiveError. Every entry is checked (path, type, count) and
 * counted against the inflated-bytes cap; the bytes of files not kept are read past and dropped.
 */
export async function readTarGz(
  bytes: Uint8Array,
  limits: Partial<ArchiveLimits> = {},
  keep: KeepFile = keepEveryFile,
): Promise<Map<string, Buffer>> {
  const bounds: ArchiveLimits = { ...defaultArchiveLimits, ...limits };
  if (bytes.byteLength > bounds.maxCompressedBytes) {
    throw new ArchiveError(
      'DK_ARCHIVE_TOO_LARGE',
      `archive is ${bytes.byteLength} bytes compressed; the limit is ${bounds.maxCompressedBytes}`,
    );
  }

  const tar = extract();
  const inflating = pipeline(
    Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]),
    createGunzip(),
    inflationGuard(bounds.maxUncompressedBytes),
    tar,
  );
  // The reader below may stop early; the pipeline's own rejection is then only a consequence.
  inflating.catch(() => undefined);

  try {
    const files = await collectEntries(tar, bounds, keep);
    await inflating;
    return files;
  } catch (error) {
    tar.destroy();
    const settled = await inflating.then(
      () => undefined,
      (pipelineError: unknown) => pipelineError,
    );
    // Prefer the most specific cause: our own verdict from either side beats a stream's follow-on error.
    if (error instanceof ArchiveError) throw error;
    if (settled instanceof ArchiveError) throw settled;
    throw new ArchiveError(
      'DK_ARCHIVE_CORRUPT',
      `archive is not a valid gzip-compressed tar: ${describe(error)}`,
      undefined,
      {
        cause: error,
      },
    );
  }
}

async function collectEntries(
  tar: Extract,
  bounds: ArchiveLimits,
  keep: KeepFile,
): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  let entries = 0;
  let kept = 0;
  for await (const entry of tar) {
    entries += 1;
    if (entries > bounds.maxEntries) {
      throw new ArchiveError(
        'DK_ARCHIVE_TOO_MANY_ENTRIES',
        `archive has more than ${bounds.maxEntries} entries`,
      );
    }
    const { header } = entry;
    const path = normalisePath(header.name);
    // tar-stream reports unknown type flags as null at runtime, whatever its typings say.
    const type: string | null = header.type;

    if (type === 'directory') {
      await drain(entry);
      continue;
    }
    if (type === 'symlink' || type === 'link') {
      throw new ArchiveError('DK_ARCHIVE_LINK', `entry ${JSON.stringify(path)} is a ${type}`, path);
    }
    if (type !== 'file' && type !== 'contiguous-file') {
      throw new ArchiveError(
        'DK_ARCHIVE_UNSUPPORTED_ENTRY',
        `entry ${JSON.stringify(path)} is a ${type}`,
        path,
      );
    }
    if (!keep(path)) {
      // Only the inflation guard upstream counts these bytes; none of them outlives its chunk.
      await drain(entry);
      continue;
    }
    if (files.has(path)) {
      throw new ArchiveError(
        'DK_ARCHIVE_DUPLICATE_PATH',
        `entry ${JSON.stringify(path)} appears twice`,
        path,
      );
    }
    const size = header.size;
    if (size > bounds.maxFileBytes) {
      throw new ArchiveError(
        'DK_ARCHIVE_TOO_LARGE',
        `entry ${JSON.stringify(path)} is ${size} bytes; the per-file limit is ${bounds.maxFileBytes}`,
        path,
      );
    }
    kept += size;
    if (kept > bounds.maxKeptBytes) {
      throw new ArchiveError(
        'DK_ARCHIVE_TOO_LARGE',
        `the files read from the archive exceed ${bounds.maxKeptBytes} bytes at entry ${JSON.stringify(path)}`,
        path,
      );
    }
    files.set(path, await readEntry(entry));
  }
  return files;
}

/** Strips `./` and empty segments; refuses anything that could land outside the extraction root. */
function normalisePath(name: string): string {
  if (name.includes('\0') || name.includes('\\')) {
    throw new ArchiveError(
      'DK_ARCHIVE_UNSAFE_PATH',
      `entry ${JSON.stringify(name)} contains NUL or a backslash`,
      name,
    );
  }
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    throw new ArchiveError('DK_ARCHIVE_UNSAFE_PATH', `entry ${JSON.stringify(name)} is absolute`, name);
  }
  const segments = name.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) {
    throw new ArchiveError(
      'DK_ARCHIVE_UNSAFE_PATH',
      `entry ${JSON.stringify(name)} climbs out with ..`,
      name,
    );
  }
  if (segments.length === 0) {
    throw new ArchiveError('DK_ARCHIVE_UNSAFE_PATH', `entry ${JSON.stringify(name)} has an empty path`, name);
  }
  return segments.join('/');
}

function inflationGuard(maxBytes: number): Transform {
  let inflated = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      inflated += chunk.length;
      if (inflated > maxBytes) {
        callback(new ArchiveError('DK_ARCHIVE_TOO_LARGE', `archive inflates to more than ${maxBytes} bytes`));
        return;
      }
      callback(null, chunk);
    },
  });
}

async function readEntry(entry: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry) {
    // streamx types entry chunks as unknown; tar-stream always yields Buffers.
    if (!Buffer.isBuffer(chunk))
      throw new ArchiveError('DK_ARCHIVE_CORRUPT', 'archive entry yielded non-binary data');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function drain(entry: AsyncIterable<unknown>): Promise<void> {
  for await (const chunk of entry) void chunk;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
