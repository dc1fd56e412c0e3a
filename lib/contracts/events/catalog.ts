/**
 * The events of the `datakit` bus (ARCHITECTURE §6): one `source`, one detail-type each. Their detail
 * payloads are zod schemas next to the capability that publishes them (`registry.ts`, `lineage.ts`).
 */
export const eventSource = 'datakit.control-plane';

export const eventDetailTypes = [
  'Package Version Registered',
  'Package Registration Rejected',
  'Promotion Requested',
  'Promotion Approved',
  'Promotion Rejected',
  'Package Deployed',
  'Run Started',
  'Run Succeeded',
  'Run Failed',
  'DataSet Updated',
  'Consumer Paused',
  'Consumer Resumed',
  'DataSet Deprecated',
  'Package Deprecated',
  /** A copy of every audit record (ADR 0018): the bus archive keeps it apart from the table. */
  'Audit Record',
] as const;

export type EventDetailType = (typeof eventDetailTypes)[number];

/** EventBridge's limit for one entry (detail + envelope); larger details must be trimmed by design. */
export const maxEventEntryBytes = 256 * 1024;
