import * as z from 'zod';
import { cellNameSchema, ecsCellRuntimeSchema } from './api/cells.js';

/**
 * Names of the AWS resources a cell's runs use, shared by the cell stack (which grants on them) and the
 * runtime (which creates and reads them): a name built differently on one side is a run that fails with
 * AccessDenied, so both sides build it here.
 */

/** Prefix of every Store secret of a stage, without the trailing `/`: `datakit/{stage}`. */
export function stageSecretNamePrefix(stage: string): string {
  return `datakit/${stage}`;
}

/** Prefix of every Store secret of one cell in one stage: `datakit/{stage}/{cell}/`. */
export function cellSecretNamePrefix(stage: string, cell: string): string {
  return `${stageSecretNamePrefix(stage)}/${cell}/`;
}

/**
 * The Secrets Manager secret of a Store (ADR 0006): `datakit/{stage}/{cell}/{store}`, a JSON object
 * keyed by `${VAR}` name. The trailing `/` of the prefix keeps cell `blue` from matching `blue-2`.
 */
export function storeSecretName(stage: string, cell: string, store: string): string {
  return `${cellSecretNamePrefix(stage, cell)}${store}`;
}

/**
 * Prefix of the task-definition families of one cell: `datakit-{cell}-`. Every family the runtime
 * registers in a cell (`datakit-{cell}-{namespace}-{name}`, ADR 0006) must start with it: the cell's
 * state machine may run those families only.
 */
export function taskDefinitionFamilyPrefix(cell: string): string {
  return `datakit-${cell}-`;
}

/** The resource type of the cell record a cell stack writes (and deletes with the stack). */
export const cellRecordResourceType = 'Custom::DataKitCell';

/** CloudFormation hands every scalar property to a custom resource as a string. */
const cfnBoolean = z.preprocess(
  (value) => (value === 'true' ? true : value === 'false' ? false : value),
  z.boolean(),
);

/**
 * The properties of a `Custom::DataKitCell` resource: the cell as the stack declares it. Description and
 * labels are initial values (the API may change them afterwards); the runtime is the stack's to keep.
 */
export const cellRecordPropertiesSchema = z.object({
  name: cellNameSchema,
  description: z.string().optional(),
  labels: z.record(z.string(), z.string()).default({}),
  runtime: ecsCellRuntimeSchema.extend({ assignPublicIp: cfnBoolean }),
});

export type CellRecordProperties = z.infer<typeof cellRecordPropertiesSchema>;
