import type { TriggeredRunStarter } from '../../ports/trigger-runs.js';
import { NotFoundError, UnprocessableError } from '../errors.js';
import type { Runs } from '../runs/runs.js';

/**
 * The trigger resolver's run starter on top of the runs use case: the deterministic run id goes in as
 * `runId` (an existing run is returned, not duplicated), and refusals a retry cannot change (the
 * deployment or cell is gone, the package is not a batch Transform) come back as a refusal instead of an
 * error, so the delivery is not retried forever. Anything else throws and the delivery is retried.
 */
export function triggeredRunStarter(runs: Pick<Runs, 'start'>): TriggeredRunStarter {
  return {
    async start(request) {
      try {
        const run = await runs.start({
          namespace: request.namespace,
          name: request.name,
          env: request.env,
          cell: request.cell,
          trigger: request.trigger,
          runId: request.runId,
        });
        return { started: true, status: run.status };
      } catch (error) {
        if (error instanceof NotFoundError || error instanceof UnprocessableError) {
          return { started: false, refusal: { code: error.code, message: error.message } };
        }
        throw error;
      }
    },
  };
}
