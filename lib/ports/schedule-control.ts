import type { SlotId } from '../domain/triggers/model.js';
import type { ScheduleSpec } from '../domain/triggers/schedule.js';

/**
 * The schedules deployments own (ADR 0013): one per deployment of a `schedule` or `composite` Transform,
 * created, replaced and removed with the deployment. EventBridge Scheduler in AWS, an in-process cron in
 * embedded mode; both convert the 5-field cron the same way and honour the time zone.
 */
export interface ScheduleControl {
  /** Creates or replaces the deployment's schedule. */
  put(id: SlotId, spec: ScheduleSpec): Promise<void>;
  /** Removes the deployment's schedule (nothing when it has none). */
  delete(id: SlotId): Promise<void>;
}
