import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalRunLogs } from '../../../lib/adapters/local/local-run-logs.js';
import { LocalTasks } from '../../../lib/adapters/local/local-tasks.js';
import type { StoppedTask } from '../../../lib/ports/task-control.js';
import {
  contentLayerSource,
  isProcessAlive,
  nodeTaskSpec,
  parentOfSleeper,
  rejectionOf,
  runTaskParameters,
  temporaryDataDir,
  waitUntil,
} from '../../support/local-runner.js';

const local = { kind: 'local' } as const;

function stoppedTaskOf(error: Error): StoppedTask {
  return JSON.parse(error.message) as StoppedTask;
}

let dataDir: string;
let removeDataDir: () => Promise<void>;
let tasks: LocalTasks;
let layers: ReturnType<typeof contentLayerSource>;
const secrets = new Map([['store-secret-arn:DK_STORE_DSN::', 'postgresql://u:p4ss@db/x']]);

beforeEach(async () => {
  ({ dataDir, remove: removeDataDir } = await temporaryDataDir());
  layers = contentLayerSource([{ name: 'main.js', contents: "console.log('from the package')" }]);
  tasks = new LocalTasks({
    dataDir,
    fetchContentLayer: layers.fetch,
    resolveSecret: async (valueFrom) => {
      const value = secrets.get(valueFrom);
      if (value === undefined) throw new Error(`no secret ${valueFrom}`);
      return value;
    },
    stopGraceMs: 300,
  });
});

afterEach(async () => {
  await tasks.close();
  await removeDataDir();
});

async function pidsOnceStarted(file: string): Promise<number[]> {
  await waitUntil(() => existsSync(file) && readFileSync(file, 'utf8') !== '', 'the task recorded its pids');
  return JSON.parse(readFileSync(file, 'utf8')) as number[];
}

describe('LocalTasks.run', () => {
  it('resolves with the stopped task, as ecs:runTask.sync does, when the Transform exits 0', async () => {
    const definition = await tasks.registerTaskDefinition(nodeTaskSpec('process.exit(0)'));

    const task = await tasks.run(runTaskParameters('run-ok', definition));

    expect(task).toMatchObject({
      TaskArn: 'local:task/run-ok',
      StartedBy: 'run-ok',
      Containers: [{ Name: 'transform', ExitCode: 0 }],
      StopCode: 'EssentialContainerExited',
    });
    expect(Date.parse(task.StartedAt ?? '')).toBeLessThanOrEqual(Date.parse(task.StoppedAt ?? ''));
  });

  it("runs spec.command in a private copy of the package's content layer, removed after the run", async () => {
    const out = join(dataDir, 'out.json');
    const withOut = await tasks.registerTaskDefinition(
      nodeTaskSpec(
        "const fs = require('node:fs'); fs.writeFileSync(process.env.OUT, JSON.stringify({ cwd: process.cwd(), files: fs.readdirSync('.') }))",
        { environment: [{ name: 'OUT', value: out }] },
      ),
    );

    await tasks.run(runTaskParameters('run-cwd', withOut));

    const seen = JSON.parse(readFileSync(out, 'utf8')) as { cwd: string; files: string[] };
    expect(seen.cwd).toBe(join(dataDir, 'runs', 'run-cwd', 'work'));
    expect(seen.files).toEqual(['main.js']);
    expect(existsSync(seen.cwd)).toBe(false);
  });

  it('composes the environment from the spec, its resolved secrets and the run overrides (overrides win), and nothing else of the control plane', async () => {
    process.env.AWS_SECRET_ACCESS_KEY = 'control-plane-secret';
    process.env.DATAKIT_SOMETHING = 'control-plane-setting';
    try {
      const out = join(dataDir, 'env.json');
      const definition = await tasks.registerTaskDefinition(
        nodeTaskSpec("require('node:fs').writeFileSync(process.env.OUT, JSON.stringify(process.env))", {
          environment: [
            { name: 'OUT', value: out },
            { name: 'DK_STORE_TYPE_WAREHOUSE', value: 'postgres' },
            { name: 'DK_MODE', value: 'from-spec' },
          ],
          secrets: [{ name: 'DK_STORE_DSN_WAREHOUSE', valueFrom: 'store-secret-arn:DK_STORE_DSN::' }],
        }),
      );

      await tasks.run(
        runTaskParameters('run-env', definition, { DK_MODE: 'from-override', OPENLINEAGE_PARENT_ID: 'p' }),
      );

      const seen = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>;
      const inherited = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'].filter(
        (name) => process.env[name] !== undefined,
      );
      expect(Object.keys(seen).sort()).toEqual(
        [
          ...inherited,
          'OUT',
          'DK_STORE_TYPE_WAREHOUSE',
          'DK_MODE',
          'DK_STORE_DSN_WAREHOUSE',
          'DK_RUN_ID',
          'OPENLINEAGE_PARENT_ID',
        ].sort(),
      );
      expect(seen).toMatchObject({
        DK_STORE_DSN_WAREHOUSE: 'postgresql://u:p4ss@db/x',
        DK_MODE: 'from-override',
        DK_RUN_ID: 'run-env',
        OPENLINEAGE_PARENT_ID: 'p',
      });
      expect(seen.AWS_SECRET_ACCESS_KEY).toBeUndefined();
      expect(seen.DATAKIT_SOMETHING).toBeUndefined();
    } finally {
      delete process.env.AWS_SECRET_ACCESS_KEY;
      delete process.env.DATAKIT_SOMETHING;
    }
  });

  it('fails with States.TaskFailed carrying the stopped task (exit code included) when the Transform exits non-zero', async () => {
    const definition = await tasks.registerTaskDefinition(nodeTaskSpec('process.exit(3)'));

    const error = await rejectionOf(tasks.run(runTaskParameters('run-3', definition)));

    expect(error.name).toBe('States.TaskFailed');
    expect(stoppedTaskOf(error)).toMatchObject({
      TaskArn: 'local:task/run-3',
      StartedBy: 'run-3',
      Containers: [{ Name: 'transform', ExitCode: 3 }],
      StopCode: 'EssentialContainerExited',
    });
  });

  it('kills what the Transform left running in its group when it exits, as a container ends with its main process', async () => {
    const pidsFile = join(dataDir, 'pids.json');
    const definition = await tasks.registerTaskDefinition(
      nodeTaskSpec(
        `const sleeper = require('node:child_process').spawn('sleep', ['30'], { stdio: 'ignore' });
         sleeper.unref();
         require('node:fs').writeFileSync(process.env.PIDS, JSON.stringify([process.pid, sleeper.pid]));`,
        { environment: [{ name: 'PIDS', value: pidsFile }] },
      ),
    );

    await tasks.run(runTaskParameters('run-leaves-child', definition));

    const pids = JSON.parse(readFileSync(pidsFile, 'utf8')) as number[];
    expect(pids.filter(isProcessAlive)).toEqual([]);
  });

  it('times out after spec.timeout with States.Timeout, killing the whole group, a TERM-ignoring leader included', async () => {
    const pidsFile = join(dataDir, 'pids.json');
    const definition = await tasks.registerTaskDefinition(
      nodeTaskSpec(parentOfSleeper({ ignoreTerm: true }), {
        timeoutSeconds: 1,
        environment: [{ name: 'PIDS', value: pidsFile }],
      }),
    );

    const running = rejectionOf(tasks.run(runTaskParameters('run-slow', definition)));
    const pids = await pidsOnceStarted(pidsFile);
    const error = await running;

    expect(error.name).toBe('States.Timeout');
    expect(error.message).toContain('spec.timeout (1 s)');
    expect(pids.filter(isProcessAlive)).toEqual([]);
  });

  it('stops a run on stopRunTasks: the group is gone when it returns, and the run fails as UserInitiated with the reason', async () => {
    const pidsFile = join(dataDir, 'pids.json');
    const definition = await tasks.registerTaskDefinition(
      nodeTaskSpec(parentOfSleeper(), { environment: [{ name: 'PIDS', value: pidsFile }] }),
    );
    const running = rejectionOf(tasks.run(runTaskParameters('run-cancel', definition)));
    const pids = await pidsOnceStarted(pidsFile);

    await tasks.stopRunTasks(local, 'run-cancel', 'cancelled by alice');

    expect(pids.filter(isProcessAlive)).toEqual([]);
    const error = await running;
    expect(error.name).toBe('States.TaskFailed');
    expect(stoppedTaskOf(error)).toMatchObject({
      StopCode: 'UserInitiated',
      StoppedReason: 'cancelled by alice',
      Containers: [{ Name: 'transform', ExitCode: 143 }],
    });
    expect(tasks.runningRuns()).toEqual([]);
  });

  it('stops a run when its AbortSignal aborts', async () => {
    const pidsFile = join(dataDir, 'pids.json');
    const definition = await tasks.registerTaskDefinition(
      nodeTaskSpec(parentOfSleeper(), { environment: [{ name: 'PIDS', value: pidsFile }] }),
    );
    const controller = new AbortController();
    const running = rejectionOf(tasks.run(runTaskParameters('run-abort', definition), controller.signal));
    const pids = await pidsOnceStarted(pidsFile);

    controller.abort('execution stopped');
    const error = await running;

    expect(stoppedTaskOf(error)).toMatchObject({
      StopCode: 'UserInitiated',
      StoppedReason: 'execution stopped',
    });
    expect(pids.filter(isProcessAlive)).toEqual([]);
  });

  it('never starts a run whose stop arrived first', async () => {
    const marker = join(dataDir, 'started');
    const definition = await tasks.registerTaskDefinition(
      nodeTaskSpec("require('node:fs').writeFileSync(process.env.MARKER, 'yes')", {
        environment: [{ name: 'MARKER', value: marker }],
      }),
    );

    await tasks.stopRunTasks(local, 'run-early-cancel', 'cancelled before it started');
    const error = await rejectionOf(tasks.run(runTaskParameters('run-early-cancel', definition)));

    expect(stoppedTaskOf(error)).toMatchObject({
      StopCode: 'UserInitiated',
      Containers: [{ Name: 'transform' }],
    });
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a spec without spec.command with RUN_NO_LOCAL_COMMAND, saying what to add, and fetches nothing', async () => {
    const definition = await tasks.registerTaskDefinition(nodeTaskSpec('', { command: undefined }));

    const error = await rejectionOf(tasks.run(runTaskParameters('run-no-command', definition)));

    expect(error.name).toBe('RUN_NO_LOCAL_COMMAND');
    expect(error.message).toContain('add spec.command to its dk.yaml (e.g. command: ["python", "main.py"])');
    expect(error.message).toContain('DATAKIT_RUNNER=docker');
    expect(layers.fetched).toEqual([]);
    const lines = await new LocalRunLogs(dataDir).tail(local, { runId: 'run-no-command', family: 'f' }, 10);
    expect(lines.map((line) => line.message).join('\n')).toContain('RUN_NO_LOCAL_COMMAND');
  });

  it('fails as TaskFailedToStart when the command does not exist', async () => {
    const definition = await tasks.registerTaskDefinition(
      nodeTaskSpec('', { command: ['no-such-command-for-datakit', 'x'] }),
    );

    const error = await rejectionOf(tasks.run(runTaskParameters('run-missing', definition)));

    expect(error.name).toBe('States.TaskFailed');
    const task = stoppedTaskOf(error);
    expect(task.StopCode).toBe('TaskFailedToStart');
    expect(task.StoppedReason).toContain('ENOENT');
  });

  it('refuses unknown task definitions, malformed parameters and a second task for a running run', async () => {
    const definition = await tasks.registerTaskDefinition(nodeTaskSpec('setTimeout(() => {}, 2000)'));
    const first = tasks.run(runTaskParameters('run-twice', definition));

    const unknown = await rejectionOf(tasks.run(runTaskParameters('run-x', 'local:task-definition/nope:0')));
    const malformed = await rejectionOf(tasks.run({ TaskDefinition: definition, StartedBy: '../escape' }));
    const twice = await rejectionOf(tasks.run(runTaskParameters('run-twice', definition)));

    expect(unknown.name).toBe('RUN_TASK_DEFINITION_UNKNOWN');
    expect(malformed.name).toBe('RUN_TASK_PARAMETERS_INVALID');
    expect(malformed.message).toContain('StartedBy');
    expect(twice.name).toBe('RUN_TASK_ALREADY_STARTED');
    await tasks.stopRunTasks(local, 'run-twice', 'test over');
    await first.catch(() => undefined);
  });

  it('registers the same spec under the same id, and another spec under another', async () => {
    const a = await tasks.registerTaskDefinition(nodeTaskSpec('1'));
    const again = await tasks.registerTaskDefinition(nodeTaskSpec('1'));
    const b = await tasks.registerTaskDefinition(nodeTaskSpec('2'));

    expect(a).toMatch(/^local:task-definition\/datakit-local-team-job:[0-9a-f]{12}$/);
    expect(again).toBe(a);
    expect(b).not.toBe(a);
  });

  it('stops every running task on close (TerminationNotice) and refuses new ones, leaving no record behind', async () => {
    const pidsFile = join(dataDir, 'pids.json');
    const definition = await tasks.registerTaskDefinition(
      nodeTaskSpec(parentOfSleeper(), { environment: [{ name: 'PIDS', value: pidsFile }] }),
    );
    const running = rejectionOf(tasks.run(runTaskParameters('run-shutdown', definition)));
    const pids = await pidsOnceStarted(pidsFile);

    await tasks.close();

    expect(pids.filter(isProcessAlive)).toEqual([]);
    expect(stoppedTaskOf(await running).StopCode).toBe('TerminationNotice');
    const refused = await rejectionOf(tasks.run(runTaskParameters('run-after-close', definition)));
    expect(stoppedTaskOf(refused).StopCode).toBe('TerminationNotice');
    expect(readdirSync(join(dataDir, 'runs')).filter((name) => name.endsWith('.pid'))).toEqual([]);
  });
});
