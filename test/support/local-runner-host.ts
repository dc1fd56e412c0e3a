/**
 * A control plane reduced to its local runner: starts one long run (a node process ignoring SIGTERM, with a grandchild
 * `sleep`) on the data directory given as argv[2], and never ends by itself. The orphan tests kill it with
 * SIGKILL to leave a run behind the way a crashed `npm start` does.
 *
 * Usage: node --import tsx test/support/local-runner-host.ts <dataDir> <runId> <pidsFile>
 */
import { LocalTasks } from '../../lib/adapters/local/local-tasks.js';
import { contentLayerSource, nodeTaskSpec, parentOfSleeper, runTaskParameters } from './local-runner.js';

const [dataDir, runId, pidsFile] = process.argv.slice(2);
if (dataDir === undefined || runId === undefined || pidsFile === undefined) {
  throw new Error('usage: local-runner-host.ts <dataDir> <runId> <pidsFile>');
}
const tasks = new LocalTasks({
  dataDir,
  fetchContentLayer: contentLayerSource().fetch,
  resolveSecret: async () => '',
});
const definition = await tasks.registerTaskDefinition(
  nodeTaskSpec(parentOfSleeper({ ignoreTerm: true }), { environment: [{ name: 'PIDS', value: pidsFile }] }),
);
await tasks.run(runTaskParameters(runId, definition));
