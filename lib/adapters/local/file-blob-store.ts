import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { BlobStore } from '../../ports/blob-store.js';

/** The blob store of the embedded mode: one file per key under a directory (the data dir). */
export class FileBlobStore implements BlobStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(key: string, body: string): Promise<void> {
    const file = this.file(key);
    await mkdir(dirname(file), { recursive: true });
    // Write then rename, so a reader never sees half an object; synced before the rename and the directory
    // after it, so an acknowledged object survives an OS crash as the table's writes do (docs/adr/0006).
    const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(body, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
    await syncDirectory(dirname(file));
  }

  async get(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.file(key), 'utf8');
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
      throw error;
    }
  }

  private file(key: string): string {
    const file = resolve(join(this.root, key));
    const inside = relative(this.root, file);
    if (inside.startsWith('..') || inside === '') throw new Error(`blob key outside the store: ${key}`);
    return file;
  }
}

async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
