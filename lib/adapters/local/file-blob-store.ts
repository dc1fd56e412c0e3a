import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
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
    // Write then rename, so a reader never sees half an object.
    const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temporary, body, 'utf8');
    await rename(temporary, file);
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
