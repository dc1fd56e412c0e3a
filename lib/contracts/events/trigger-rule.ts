import { eventSource } from './catalog.js';

/**
 * The events the trigger resolver consumes, defined once for the EventBridge rule (→ SQS → trigger
 * function) and the embedded bus: dataset updates start consumers, run ends free their slots.
 */
export const triggerEventPattern = {
  source: [eventSource],
  'detail-type': ['DataSet Updated', 'Run Succeeded', 'Run Failed'],
};
