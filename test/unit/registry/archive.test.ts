import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArchiveError, readTarGz } from '../../../lib/domain/registry/archive.js';
import { gzipBomb, type TarEntry, tarGz } from '../../support/dk-artifact.js';

/** Reads, turning the outcome into a value, and fails the test if reading takes longer than `ms`. */
async function outcome(
  bytes: Uint8Array,
  limits = {},
  keep?: (path: string) => boolean,
  ms = 5_000,
): Promise<Map<string, Buffer> | ArchiveError> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`readTarGz did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([
      readTarGz(bytes, limits, keep).catch((error: unknown) => {
        if (error instanceof ArchiveError) return error;
        throw error;
      }),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function codeOf(entries: TarEntry[], limits = {}, keep?: (path: string) => boolean): Promise<string> {
  const result = await outcome(await tarGz(entries), limits, keep);
  return result instanceof ArchiveError ? result.code : 'OK';
}

describe('readTarGz reads well-formed archives', () => {
  it('returns every file by path with its exact bytes', async () => {
    const binary = Buffer.from([0, 1, 2, 255]);
    const files = await readTarGz(
      await tarGz([
        { name: 'dk.yaml', contents: 'kind: Transform\n' },
        { name: 'schemas/out.json', contents: '{}' },
        { name: 'bin/blob', contents: binary },
      ]),
    );

    expect([...files.keys()].sort()).toEqual(['bin/blob', 'dk.yaml', 'schemas/out.json']);
    expect(files.get('bin/blob')?.equals(binary)).toBe(true);
    expect(files.get('dk.yaml')?.toString()).toBe('kind: Transform\n');
  });

  it('normalises ./ prefixes and repeated slashes', async () => {
    const files = await readTarGz(await tarGz([{ name: './dk.yaml' }, { name: './schemas//./x.json' }]));

    expect([...files.keys()].sort()).toEqual(['dk.yaml', 'schemas/x.json']);
  });

  it('skips directory entries', async () => {
    const files = await readTarGz(
      await tarGz([{ name: 'schemas/', type: 'directory' }, { name: 'schemas/a' }]),
    );

    expect([...files.keys()]).toEqual(['schemas/a']);
  });

  it('reads an empty archive as no files', async () => {
    expect((await readTarGz(await tarGz([]))).size).toBe(0);
  });

  it('round-trips any set of safe paths and contents', async () => {
    const segment = fc.string({
      unit: fc.constantFrom(...'abcxyz019-_.'.split('')),
      minLength: 1,
      maxLength: 12,
    });
    const path = fc
      .array(segment, { minLength: 1, maxLength: 4 })
      .filter((parts) => parts.every((part) => part !== '.' && part !== '..'))
      .map((parts) => parts.join('/'));
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(path, fc.uint8Array({ maxLength: 2000 }), { maxKeys: 12 }),
        async (files) => {
          // A file and a directory of the same name cannot coexist in a tar anyone would write.
          const names = Object.keys(files);
          fc.pre(names.every((name) => !names.some((other) => other.startsWith(`${name}/`))));
          const entries = names.map((name) => ({ name, contents: Buffer.from(files[name] ?? []) }));

          const read = await readTarGz(await tarGz(entries));

          expect([...read.keys()].sort()).toEqual(names.sort());
          for (const name of names) expect(read.get(name)?.equals(Buffer.from(files[name] ?? []))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('readTarGz keeps what `keep` selects and reads past the rest', () => {
  const onlyYaml = (path: string) => path.endsWith('.yaml');

  it('returns only the kept files, with their exact bytes', async () => {
    const files = await readTarGz(
      await tarGz([
        { name: 'dataset/a.yaml', contents: 'kind: DataSet\n' },
        { name: 'src/main.py', contents: 'print(1)\n' },
        { name: 'dataset/b.yaml', contents: 'kind: DataSet\n' },
      ]),
      {},
      onlyYaml,
    );

    expect([...files.keys()].sort()).toEqual(['dataset/a.yaml', 'dataset/b.yaml']);
    expect(files.get('dataset/a.yaml')?.toString()).toBe('kind: DataSet\n');
  });

  it('reads past a file larger than maxFileBytes when it is not kept', async () => {
    const entries = [
      { name: 'data.bin', contents: Buffer.alloc(4096) },
      { name: 'x.yaml', contents: 'a: 1' },
    ];

    expect(await codeOf(entries, { maxFileBytes: 1024 }, onlyYaml)).toBe('OK');
    expect(await codeOf(entries, { maxFileBytes: 1024 })).toBe('DK_ARCHIVE_TOO_LARGE');
  });

  it('refuses kept files that together exceed maxKeptBytes, naming the file that crossed it', async () => {
    const entries = ['a', 'b', 'c'].map((name) => ({ name: `${name}.yaml`, contents: Buffer.alloc(400) }));

    expect(await outcome(await tarGz(entries), { maxKeptBytes: 1000 }, onlyYaml)).toMatchObject({
      code: 'DK_ARCHIVE_TOO_LARGE',
      path: 'c.yaml',
    });
    expect(await codeOf(entries.slice(0, 2), { maxKeptBytes: 1000 }, onlyYaml)).toBe('OK');
  });

  it('counts the bytes of files read past against maxUncompressedBytes', async () => {
    const entries = [{ name: 'data.bin', contents: Buffer.alloc(64 * 1024) }];

    expect(await codeOf(entries, { maxUncompressedBytes: 32 * 1024 }, onlyYaml)).toBe('DK_ARCHIVE_TOO_LARGE');
  });

  it('stops a gzip bomb in a file it reads past at maxUncompressedBytes', async () => {
    const bomb = await gzipBomb(64 * 1024 * 1024);

    expect(await outcome(bomb, { maxUncompressedBytes: 1024 * 1024 }, onlyYaml)).toMatchObject({
      code: 'DK_ARCHIVE_TOO_LARGE',
      message: `archive inflates to more than ${1024 * 1024} bytes`,
    });
  });

  it.each<[string, TarEntry[], string]>([
    ['an unsafe path', [{ name: '../src/evil.py', contents: 'x' }], 'DK_ARCHIVE_UNSAFE_PATH'],
    ['a symlink', [{ name: 'src/l', type: 'symlink', linkname: '/etc' }], 'DK_ARCHIVE_LINK'],
    ['a FIFO', [{ name: 'src/p', type: 'fifo' }], 'DK_ARCHIVE_UNSUPPORTED_ENTRY'],
  ])('still refuses %s among the entries it reads past', async (_, entries, code) => {
    expect(await codeOf(entries, {}, onlyYaml)).toBe(code);
  });

  it('counts entries it reads past against maxEntries', async () => {
    const entries = Array.from({ length: 11 }, (_, index): TarEntry => ({ name: `src/${index}.py` }));

    expect(await codeOf(entries, { maxEntries: 10 }, onlyYaml)).toBe('DK_ARCHIVE_TOO_MANY_ENTRIES');
  });

  it('keeps a few MiB at most by default: 1 MiB a file, 4 MiB in all', async () => {
    const MiB = 1024 * 1024;
    const kept = (count: number, size: number) =>
      Array.from({ length: count }, (_, index) => ({ name: `f${index}`, contents: Buffer.alloc(size) }));

    expect(await codeOf(kept(1, MiB))).toBe('OK');
    expect(await codeOf(kept(1, MiB + 1))).toBe('DK_ARCHIVE_TOO_LARGE');
    expect(await codeOf(kept(4, MiB))).toBe('OK');
    expect(await codeOf(kept(5, MiB))).toBe('DK_ARCHIVE_TOO_LARGE');
  });

  it('reads past up to 64 MiB inflated by default, and no further', async () => {
    const MiB = 1024 * 1024;
    // Tar framing (a 512-byte header, the end-of-archive blocks) counts too.
    expect(await outcome(await gzipBomb(63 * MiB), {}, onlyYaml)).toBeInstanceOf(Map);
    expect(await outcome(await gzipBomb(64 * MiB), {}, onlyYaml)).toMatchObject({
      code: 'DK_ARCHIVE_TOO_LARGE',
    });
  });
});

describe('readTarGz refuses unsafe or oversized archives with a stable code', () => {
  it.each<[string, TarEntry[], string]>([
    ['a ../ segment', [{ name: 'a/../../etc/passwd' }], 'DK_ARCHIVE_UNSAFE_PATH'],
    ['a bare ..', [{ name: '..' }], 'DK_ARCHIVE_UNSAFE_PATH'],
    ['an absolute path', [{ name: '/etc/passwd' }], 'DK_ARCHIVE_UNSAFE_PATH'],
    ['a Windows drive path', [{ name: 'C:/Windows/x' }], 'DK_ARCHIVE_UNSAFE_PATH'],
    ['a backslash', [{ name: '..\\x' }], 'DK_ARCHIVE_UNSAFE_PATH'],
    ['an unsafe directory', [{ name: '../d/', type: 'directory' }], 'DK_ARCHIVE_UNSAFE_PATH'],
    ['a path that normalises to nothing', [{ name: './' }], 'DK_ARCHIVE_UNSAFE_PATH'],
    ['a symlink', [{ name: 'l', type: 'symlink', linkname: '../../etc' }], 'DK_ARCHIVE_LINK'],
    ['a hard link', [{ name: 'a' }, { name: 'h', type: 'link', linkname: 'a' }], 'DK_ARCHIVE_LINK'],
    ['a FIFO', [{ name: 'p', type: 'fifo' }], 'DK_ARCHIVE_UNSUPPORTED_ENTRY'],
    ['a character device', [{ name: 'c', type: 'character-device' }], 'DK_ARCHIVE_UNSUPPORTED_ENTRY'],
    ['a block device', [{ name: 'b', type: 'block-device' }], 'DK_ARCHIVE_UNSUPPORTED_ENTRY'],
    ['a duplicate path', [{ name: 'a' }, { name: './a' }], 'DK_ARCHIVE_DUPLICATE_PATH'],
  ])('refuses %s', async (_, entries, code) => {
    expect(await codeOf(entries)).toBe(code);
  });

  it('names the offending entry', async () => {
    const error = await outcome(await tarGz([{ name: 'ok' }, { name: '../evil' }]));

    expect(error).toMatchObject({ code: 'DK_ARCHIVE_UNSAFE_PATH', path: '../evil' });
  });

  it('refuses more entries than maxEntries, directories included', async () => {
    const entries = Array.from(
      { length: 11 },
      (_, index): TarEntry => ({ name: `d${index}/`, type: 'directory' }),
    );

    expect(await codeOf(entries, { maxEntries: 10 })).toBe('DK_ARCHIVE_TOO_MANY_ENTRIES');
    expect(await codeOf(entries.slice(0, 10), { maxEntries: 10 })).toBe('OK');
  });

  it('refuses a file over maxFileBytes', async () => {
    expect(await codeOf([{ name: 'big', contents: Buffer.alloc(2048) }], { maxFileBytes: 1024 })).toBe(
      'DK_ARCHIVE_TOO_LARGE',
    );
  });

  it('refuses compressed input over maxCompressedBytes without inflating it', async () => {
    expect(await codeOf([{ name: 'a', contents: 'x'.repeat(100) }], { maxCompressedBytes: 10 })).toBe(
      'DK_ARCHIVE_TOO_LARGE',
    );
  });

  it('stops inflating a gzip bomb at maxUncompressedBytes', async () => {
    const bomb = await gzipBomb(64 * 1024 * 1024);
    const started = Date.now();

    const result = await outcome(bomb, {
      maxUncompressedBytes: 1024 * 1024,
      maxFileBytes: 1024 * 1024 * 1024,
    });

    expect(bomb.length).toBeLessThan(256 * 1024);
    expect(result).toMatchObject({ code: 'DK_ARCHIVE_TOO_LARGE' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses a tar that is not gzip-compressed', async () => {
    const plainTar = gunzipSync(await tarGz([{ name: 'a' }]));

    expect(await outcome(plainTar)).toMatchObject({ code: 'DK_ARCHIVE_CORRUPT' });
  });

  it('refuses gzip whose content is not a tar', async () => {
    expect(await outcome(gzipSync(Buffer.from('just text, not a tar header'.repeat(40))))).toMatchObject({
      code: 'DK_ARCHIVE_CORRUPT',
    });
  });
});

describe('readTarGz on malformed input always settles with files or an ArchiveError', () => {
  const isSettled = (result: Map<string, Buffer> | ArchiveError) =>
    result instanceof Map || (result instanceof ArchiveError && result.code.startsWith('DK_ARCHIVE_'));

  it('random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        expect(isSettled(await outcome(bytes))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes behind a valid gzip header', async () => {
    const header = Uint8Array.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03]);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => {
        expect(isSettled(await outcome(Buffer.concat([header, bytes])))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('truncated valid archives', async () => {
    const valid = await tarGz([
      { name: 'dk.yaml', contents: 'kind: Transform\n'.repeat(50) },
      { name: 'src/a.py', contents: 'print(1)\n'.repeat(300) },
    ]);
    await fc.assert(
      fc.asyncProperty(fc.nat(valid.length - 1), async (length) => {
        expect(isSettled(await outcome(valid.subarray(0, length)))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('valid archives with corrupted bytes, inside the gzip stream and after inflating', async () => {
    const entries = [
      { name: 'dk.yaml', contents: 'kind: Transform\n'.repeat(50) },
      { name: 'src/a.py', contents: 'print(1)\n'.repeat(300) },
    ];
    const valid = await tarGz(entries);
    const plain = gunzipSync(valid);
    const flips = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
      minLength: 1,
      maxLength: 8,
    });
    const corrupt = (source: Buffer, changes: [number, number][]) => {
      const copy = Buffer.from(source);
      for (const [at, mask] of changes) copy[at % copy.length] = (copy[at % copy.length] ?? 0) ^ mask;
      return copy;
    };
    await fc.assert(
      fc.asyncProperty(flips, fc.boolean(), async (changes, afterInflating) => {
        const bytes = afterInflating ? gzipSync(corrupt(plain, changes)) : corrupt(valid, changes);
        expect(isSettled(await outcome(bytes))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('random entry names never yield a path outside the root', async () => {
    const name = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .array(fc.constantFrom('..', '.', '', 'a', 'b.txt', '/', '\\', 'C:', '~'), { maxLength: 6 })
        .map((parts) => parts.join('/')),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(name, { minLength: 1, maxLength: 5 }), async (names) => {
        fc.pre(names.every((n) => n.length > 0 && Buffer.byteLength(n) < 100 && !n.includes('\0')));
        const result = await outcome(await tarGz(names.map((n) => ({ name: n, contents: 'x' }))));
        expect(isSettled(result)).toBe(true);
        if (!(result instanceof Map)) return;
        for (const path of result.keys()) {
          expect(path.startsWith('/')).toBe(false);
          expect(path.split('/')).not.toContain('..');
          expect(path.split('/')).not.toContain('.');
          expect(path.split('/')).not.toContain('');
        }
      }),
      { numRuns: 300 },
    );
  });
});
