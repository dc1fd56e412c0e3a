import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalRunLogs } from '../../../lib/adapters/local/local-run-logs.js';
import { LocalTasks } from '../../../lib/adapters/local/local-tasks.js';
import type { StoppedTask } from '../../../lib/ports/task-control.js';
import {
  contentLayerSource,
  nodeTaskSpec,
  rejectionOf,
  runTaskParameters,
  temporaryDataDir,
  waitUntil,
} from '../../support/local-runner.js';

/**
 * A stand-in for the docker client (there is no daemon here): a real executable that records how it was
 * called, plays a container that prints a line and exits with `exit-code` (or runs until `docker stop`).
 */
const fakeDocker = `#!/bin/sh
dir=$(dirname "$0")
case "$1" in
  run)
    name=""; previous=""
    for arg in "$@"; do
      if [ "$previous" = "--name" ]; then name=$arg; fi
      previous=$arg
    done
    printf '%s\\n' "$@" > "$dir/$name.argv"
    env > "$dir/$name.env"
    echo $$ > "$dir/$name.pid"
    echo "container output"
    if [ -f "$dir/exit-code" ]; then exit "$(cat "$dir/exit-code")"; fi
    trap 'echo "stopped"; exit 143' TERM
    while true; do sleep 0.05; done
    ;;
  stop)
    printf '%s\\n' "$@" > "$dir/stop.argv"
    kill -TERM "$(cat "$dir/$4.pid")"
    ;;
  rm)
    printf '%s\\n' "$@" >> "$dir/rm.argv"
    ;;
esac
`;

const local = { kind: 'local' } as const;
const image = 'localhost:5000/team/job:1.0.0';

let dataDir: string;
let removeDataDir: () => Promise<void>;
let docker: string;
let tasks: LocalTasks;
let layers: ReturnType<typeof contentLayerSource>;

beforeEach(async () => {
  ({ dataDir, remove: removeDataDir } = await temporaryDataDir());
  docker = join(dataDir, 'docker');
  writeFileSync(docker, fakeDocker);
  chmodSync(docker, 0o755);
  layers = contentLayerSource();
  tasks = new LocalTasks({
    dataDir,
    runner: 'docker',
    dockerCommand: docker,
    dockerRunArgs: ['--network', 'host'],
    fetchContentLayer: layers.fetch,
    resolveSecret: async () => 'postgresql://u:p4ss@db/x',
    stopGraceMs: 1_000,
  });
});

afterEach(async () => {
  await tasks.close();
  await removeDataDir();
});

const recorded = (name: string) => readFileSync(join(dataDir, name), 'utf8').trimEnd().split('\n');

describe('the docker runner (DATAKIT_RUNNER=docker)', () => {
  it('runs spec.image with docker run, handing variables over by name so no value is in its argv', async () => {
    process.env.AWS_SECRET_ACCESS_KEY = 'control-plane-secret';
    process.env.DOCKER_HOST = 'unix:///run/fake-docker.sock';
    writeFileSync(join(dataDir, 'exit-code'), '3');
    try {
      const definition = await tasks.registerTaskDefinition(
        nodeTaskSpec('', {
          image,
          command: ['python', 'main.py'],
          environment: [{ name: 'DK_STORE_TYPE_WAREHOUSE', value: 'postgres' }],
          secrets: [{ name: 'DK_STORE_DSN_WAREHOUSE', valueFrom: 'arn:secret:DK_STORE_DSN::' }],
        }),
      );

      const error = await rejectionOf(
        tasks.run(runTaskParameters('run-d1', definition, { OPENLINEAGE_PARENT_ID: 'p' })),
      );

      expect(error.name).toBe('States.TaskFailed');
      expect((JSON.parse(error.message) as StoppedTask).Containers).toEqual([
        { Name: 'transform', ExitCode: 3 },
      ]);
      expect(recorded('dk-run-run-d1.argv')).toEqual([
        'run',
        '--rm',
        '--name',
        'dk-run-run-d1',
        '--label',
        'datakit.run-id=run-d1',
        '-e',
        'DK_STORE_TYPE_WAREHOUSE',
        '-e',
        'DK_STORE_DSN_WAREHOUSE',
        '-e',
        'DK_RUN_ID',
        '-e',
        'OPENLINEAGE_PARENT_ID',
        '--network',
        'host',
        image,
        'python',
        'main.py',
      ]);
      const environment = recorded('dk-run-run-d1.env');
      expect(environment).toContain('DK_STORE_DSN_WAREHOUSE=postgresql://u:p4ss@db/x');
      expect(environment).toContain('DOCKER_HOST=unix:///run/fake-docker.sock');
      expect(environment.some((line) => line.startsWith('AWS_SECRET_ACCESS_KEY='))).toBe(false);
      expect(layers.fetched).toEqual([]);
      const lines = await new LocalRunLogs(dataDir).tail(local, { runId: 'run-d1', family: 'f' }, 10);
      expect(lines.map((line) => line.message)).toContain('container output');
    } finally {
      delete process.env.AWS_SECRET_ACCESS_KEY;
      delete process.env.DOCKER_HOST;
    }
  });

  it('resolves with the stopped task when the container exits 0', async () => {
    writeFileSync(join(dataDir, 'exit-code'), '0');
    const definition = await tasks.registerTaskDefinition(nodeTaskSpec('', { image, command: undefined }));

    const task = await tasks.run(runTaskParameters('run-d0', definition));

    expect(task.Containers).toEqual([{ Name: 'transform', ExitCode: 0 }]);
    // Without spec.command the image's own command runs: nothing follows the image.
    expect(recorded('dk-run-run-d0.argv').at(-1)).toBe(image);
  });

  it('stops a cancelled run with docker stop, then the client', async () => {
    const definition = await tasks.registerTaskDefinition(nodeTaskSpec('', { image }));
    const running = rejectionOf(tasks.run(runTaskParameters('run-d2', definition)));
    await waitUntil(() => existsSync(join(dataDir, 'dk-run-run-d2.pid')), 'the container started');

    await tasks.stopRunTasks(local, 'run-d2', 'cancelled by bob');

    expect(recorded('stop.argv')).toEqual(['stop', '--time', '1', 'dk-run-run-d2']);
    const task = JSON.parse((await running).message) as StoppedTask;
    expect(task).toMatchObject({ StopCode: 'UserInitiated', StoppedReason: 'cancelled by bob' });
    expect(task.Containers).toEqual([{ Name: 'transform', ExitCode: 143 }]);
  });

  it('refuses a spec without spec.image with RUN_NO_IMAGE', async () => {
    const definition = await tasks.registerTaskDefinition(
      nodeTaskSpec('process.exit(0)', { image: undefined }),
    );

    const error = await rejectionOf(tasks.run(runTaskParameters('run-d3', definition)));

    expect(error.name).toBe('RUN_NO_IMAGE');
    expect(error.message).toContain('add spec.image');
  });

  it('removes the container of an orphaned run, since killing its client does not stop it', async () => {
    const runs = join(dataDir, 'runs');
    mkdirSync(runs, { recursive: true });
    writeFileSync(
      join(runs, 'run-d4.pid'),
      JSON.stringify({
        owner: 'run-d4',
        pid: 999_999_999,
        pgid: 999_999_999,
        startedAt: new Date().toISOString(),
        runner: 'docker',
        container: 'dk-run-run-d4',
      }),
    );

    expect(await tasks.recoverOrphans()).toEqual(['run-d4']);

    expect(recorded('rm.argv')).toEqual(['rm', '--force', 'dk-run-run-d4']);
  });
});
