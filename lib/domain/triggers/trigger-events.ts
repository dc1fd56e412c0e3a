import * as z from 'zod';
import { datasetUpdatedDetailSchema } from '../../contracts/events/lineage.js';
import { runEventDetailSchema } from '../../contracts/events/runs.js';
import type { RunRepository } from '../../ports/run-store.js';
import type { SubscriptionStore } from '../../ports/subscription-store.js';
import type { ScheduleTick, TriggerResolver } from './resolver.js';

/** An event of the bus as EventBridge delivers it (the fields the trigger function reads). */
export const triggerEnvelopeSchema = z.looseObject({
  'detail-type': z.string(),
  detail: z.record(z.string(), z.unknown()),
});

/** A schedule tick as EventBridge Scheduler invokes the trigger function with it. */
export const scheduleInvocationSchema = z.object({
  source: z.literal('datakit.schedule'),
  tick: z.object({
    namespace: z.string(),
    name: z.string(),
    env: z.string(),
    cell: z.string(),
    scheduledTime: z.string(),
  }),
});

export interface TriggerEventDependencies {
  readonly resolver: TriggerResolver;
  readonly subscriptions: Pick<SubscriptionStore, 'aliasesOf'>;
  readonly runs: Pick<RunRepository, 'getRun'>;
}

/**
 * What the trigger function does with each event (ADR 0013): a DataKit DataSet's update starts its
 * on-change consumers; an external producer's update of a dataset that resolves to DataKit DataSets
 * (by the naming rules deploys record, or its `symlinks` facet) does too — unless it is a child run of a
 * DataKit run, whose own completion announces the same data; a run's end frees its consumer's slot.
 */
export function makeTriggerEvents(deps: TriggerEventDependencies) {
  return {
    async onEvent(envelope: z.infer<typeof triggerEnvelopeSchema>): Promise<void> {
      const type = envelope['detail-type'];
      if (type === 'Run Succeeded' || type === 'Run Failed') {
        await deps.resolver.onRunEnded(runEventDetailSchema.parse(envelope.detail));
        return;
      }
      if (type !== 'DataSet Updated') return;
      const detail = datasetUpdatedDetailSchema.parse(envelope.detail);
      if (detail.cell !== undefined && detail.datakit !== undefined) {
        await deps.resolver.onDataSetUpdated(detail);
        return;
      }
      if (detail.parentRunId !== undefined && (await deps.runs.getRun(detail.parentRunId)) !== undefined)
        return;
      for (const alias of await deps.subscriptions.aliasesOf(detail.dataset)) {
        await deps.resolver.onDataSetUpdated({
          ...detail,
          cell: alias.cell,
          datakit: { namespace: alias.namespace, name: alias.name },
        });
      }
    },

    async onScheduleTick(tick: ScheduleTick) {
      return deps.resolver.onScheduleTick(tick);
    },
  };
}

export type TriggerEvents = ReturnType<typeof makeTriggerEvents>;
