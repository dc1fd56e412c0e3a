import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalRunLogs } from '../../../lib/adapters/local/local-run-logs.js';
import { LocalTasks } from '../../../lib/adapters/local/local-tasks.js';
import { droppedOutputMessage } from '../../../lib/adapters/local/output-capture.js';
import type { LogLine } from '../../../lib/ports/run-logs.js';
import {
  contentLayerSource,
  nodeTaskSpec,
  runTaskParameters,
  temporaryDataDir,
} from '../../support/local-runner.js';

const local = { kind: 'local' } as const;

let dataDir: string;
let removeDataDir: () => Promise<void>;

beforeEach(async () => {
  ({ dataDir, remove: removeDataDir } = await temporaryDataDir());
});
afterEach(() => removeDataDir());

async function runAndTail(script: string, runId: string, limit: number, maxOutputBytes?: number) {
  const tasks = new LocalTasks({
    dataDir,
    fetchContentLayer: contentLayerSource().fetch,
    resolveSecret: async () => '',
    maxOutputBytes,
  });
  try {
    const definition = await tasks.registerTaskDefinition(nodeTaskSpec(script));
    await tasks.run(runTaskParameters(runId, definition)).catch(() => undefined);
  } finally {
    await tasks.close();
  }
  return new LocalRunLogs(dataDir).tail(local, { runId, family: 'datakit-local-team-job' }, limit);
}

const ownLines = (lines: LogLine[]) =>
  lines.filter((line) => line.stream !== 'combined').map((line) => [line.stream, line.message]);

describe('captured output of local runs', () => {
  it('keeps stdout and stderr lines in the order they were written, with their stream and time', async () => {
    const lines = await runAndTail(
      `const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
       (async () => {
         process.stdout.write('one\\n');
         await wait(30);
         process.stderr.write('two\\n');
         await wait(30);
         process.stdout.write('three\\nfour and no newline');
       })();`,
      'run-order',
      50,
    );

    expect(ownLines(lines)).toEqual([
      ['stdout', 'one'],
      ['stderr', 'two'],
      ['stdout', 'three'],
      ['stdout', 'four and no newline'],
    ]);
    expect(lines.every((line) => line.at === undefined || !Number.isNaN(Date.parse(line.at)))).toBe(true);
    expect(lines.at(-1)?.message).toBe('[datakit] exited with code 0');
  });

  it('tails the last lines, oldest first', async () => {
    const lines = await runAndTail(
      "for (let i = 1; i <= 100; i += 1) console.log('line ' + i); process.exit(2)",
      'run-tail',
      4,
    );

    expect(lines.map((line) => line.message)).toEqual([
      'line 98',
      'line 99',
      'line 100',
      '[datakit] exited with code 2',
    ]);
  });

  it('bounds the capture, keeping the newest output and saying that older output was dropped', async () => {
    const maxOutputBytes = 64 * 1024;
    const lines = await runAndTail(
      "for (let i = 1; i <= 5000; i += 1) console.log('line ' + i + ' ' + 'x'.repeat(90))",
      'run-big',
      100_000,
      maxOutputBytes,
    );

    const file = join(dataDir, 'runs', 'run-big.log');
    expect(statSync(file).size + statSync(`${file}.1`).size).toBeLessThanOrEqual(maxOutputBytes);
    expect(lines[0]?.message).toBe(droppedOutputMessage);
    const own = lines.filter((line) => line.stream === 'stdout').map((line) => line.message);
    expect(own.at(-1)).toBe(`line 5000 ${'x'.repeat(90)}`);
    expect(own).not.toContain(`line 1 ${'x'.repeat(90)}`);
    // What is kept is contiguous: no line is missing between the first kept and the last.
    const numbers = own.map((message) => Number(message.split(' ')[1]));
    expect(numbers).toEqual(numbers.map((_, index) => (numbers[0] ?? 0) + index));
    expect(numbers.length).toBeGreaterThan(250);
  });

  it('splits an endless line instead of holding it in memory', async () => {
    const lines = await runAndTail("process.stdout.write('y'.repeat(200 * 1024))", 'run-long-line', 10);

    const own = lines.filter((line) => line.stream === 'stdout');
    expect(own.map((line) => line.message.length)).toEqual([65_536, 65_536, 65_536, 8_192]);
  });

  it('has nothing to show for a run that never wrote, or an id that names no file', async () => {
    const logs = new LocalRunLogs(dataDir);

    expect(await logs.tail(local, { runId: 'never-ran', family: 'f' }, 10)).toEqual([]);
    expect(await logs.tail(local, { runId: '../../etc/passwd', family: 'f' }, 10)).toEqual([]);
  });
});
