import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalTasks } from '../../../lib/adapters/local/local-tasks.js';
import type { TarEntry } from '../../support/dk-artifact.js';
import {
  contentLayerSource,
  nodeTaskSpec,
  rejectionOf,
  runTaskParameters,
  taskPackage,
  temporaryDataDir,
} from '../../support/local-runner.js';

let dataDir: string;
let removeDataDir: () => Promise<void>;
const open: LocalTasks[] = [];

beforeEach(async () => {
  ({ dataDir, remove: removeDataDir } = await temporaryDataDir());
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((tasks) => tasks.close()));
  await removeDataDir();
});

function localTasks(layers: ReturnType<typeof contentLayerSource>): LocalTasks {
  const tasks = new LocalTasks({ dataDir, fetchContentLayer: layers.fetch, resolveSecret: async () => '' });
  open.push(tasks);
  return tasks;
}

const packageFiles: TarEntry[] = [
  { name: 'main.js', contents: "require('./lib/step.js')" },
  { name: 'lib/', type: 'directory' },
  {
    name: 'lib/step.js',
    contents:
      "const fs = require('node:fs'); fs.appendFileSync('data.txt', 'written by the run\\n'); fs.writeFileSync(process.env.OUT, fs.readFileSync('data.txt'))",
  },
  { name: 'data.txt', contents: 'shipped\n' },
];

describe("the package's content layer", () => {
  it('is fetched once per digest, even for runs started together, and each run works on its own copy', async () => {
    const layers = contentLayerSource(packageFiles);
    const tasks = localTasks(layers);
    const outputs = [1, 2, 3].map((n) => join(dataDir, `out-${n}.txt`));
    const definitions = await Promise.all(
      outputs.map((out) =>
        tasks.registerTaskDefinition(
          nodeTaskSpec('', {
            command: [process.execPath, 'main.js'],
            environment: [{ name: 'OUT', value: out }],
          }),
        ),
      ),
    );

    await Promise.all(
      definitions.map((definition, n) => tasks.run(runTaskParameters(`run-${n}`, definition))),
    );

    expect(layers.fetched).toHaveLength(1);
    // Every run saw the file as shipped plus its own line, never another run's.
    for (const out of outputs) expect(readFileSync(out, 'utf8')).toBe('shipped\nwritten by the run\n');
    const hex = taskPackage().digest.slice('sha256:'.length);
    expect(readFileSync(join(dataDir, 'packages', hex, 'data.txt'), 'utf8')).toBe('shipped\n');
  });

  it('is reused from disk by the next control plane on the same data directory', async () => {
    const first = contentLayerSource(packageFiles);
    const spec = nodeTaskSpec('', {
      command: [process.execPath, 'main.js'],
      environment: [{ name: 'OUT', value: join(dataDir, 'out.txt') }],
    });
    const tasks = localTasks(first);
    await tasks.run(runTaskParameters('run-a', await tasks.registerTaskDefinition(spec)));

    const second = contentLayerSource(packageFiles);
    const next = localTasks(second);
    await next.run(runTaskParameters('run-b', await next.registerTaskDefinition(spec)));

    expect(first.fetched).toHaveLength(1);
    expect(second.fetched).toHaveLength(0);
  });

  it.each<[string, TarEntry[], string]>([
    ['a path climbing out with ..', [{ name: '../escape.js', contents: 'x' }], 'DK_ARCHIVE_UNSAFE_PATH'],
    ['an absolute path', [{ name: '/tmp/escape.js', contents: 'x' }], 'DK_ARCHIVE_UNSAFE_PATH'],
    ['a symlink', [{ name: 'link', type: 'symlink', linkname: '/etc/passwd' }], 'DK_ARCHIVE_LINK'],
    ['a hard link', [{ name: 'link', type: 'link', linkname: '../../outside' }], 'DK_ARCHIVE_LINK'],
    ['a device', [{ name: 'dev', type: 'character-device' }], 'DK_ARCHIVE_UNSUPPORTED_ENTRY'],
  ])(
    'is refused when it holds %s, leaving nothing unpacked, and retried by the next run',
    async (_, entries, code) => {
      const layers = contentLayerSource(entries);
      const tasks = localTasks(layers);
      const definition = await tasks.registerTaskDefinition(nodeTaskSpec('process.exit(0)'));

      const error = await rejectionOf(tasks.run(runTaskParameters('run-unsafe', definition)));
      await rejectionOf(tasks.run(runTaskParameters('run-unsafe-again', definition)));

      expect(error.name).toBe('RUN_CONTENT_LAYER_INVALID');
      expect(error.message).toContain(code);
      expect(readdirSync(join(dataDir, 'packages'))).toEqual([]);
      expect(existsSync(join(dataDir, 'escape.js'))).toBe(false);
      expect(layers.fetched).toHaveLength(2);
    },
  );

  it('is refused when it inflates beyond the archive limits', async () => {
    const layers = contentLayerSource([{ name: 'big.bin', contents: Buffer.alloc(2 * 1024 * 1024) }]);
    const tasks = new LocalTasks({
      dataDir,
      fetchContentLayer: layers.fetch,
      resolveSecret: async () => '',
      archiveLimits: { maxUncompressedBytes: 1024 * 1024 },
    });
    open.push(tasks);
    const definition = await tasks.registerTaskDefinition(nodeTaskSpec('process.exit(0)'));

    const error = await rejectionOf(tasks.run(runTaskParameters('run-bomb', definition)));

    expect(error.name).toBe('RUN_CONTENT_LAYER_INVALID');
    expect(error.message).toContain('DK_ARCHIVE_TOO_LARGE');
  });

  it('sweeps what an unpack interrupted by a crash left behind', async () => {
    const leftover = join(dataDir, 'packages', '.unpacking-abc-123');
    mkdirSync(join(leftover, 'half'), { recursive: true });
    const tasks = localTasks(contentLayerSource());

    await tasks.run(
      runTaskParameters('run-sweep', await tasks.registerTaskDefinition(nodeTaskSpec('process.exit(0)'))),
    );

    expect(existsSync(leftover)).toBe(false);
    expect(readdirSync(join(dataDir, 'packages'))).toEqual([taskPackage().digest.slice('sha256:'.length)]);
  });
});
