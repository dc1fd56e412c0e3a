import { cellNameSchema } from '../../contracts/api/cells.js';
import { cellRecordPropertiesSchema } from '../../contracts/cell-resources.js';
import { formatPath } from '../../contracts/zod-problems.js';
import type { StackCellRecords } from '../dynamodb/stack-cell-records.js';
import type { CustomResourceOutcome, CustomResourceRequest } from './custom-resource.js';

/** The physical id of a create whose properties were invalid: no record was written under any name. */
export const unwrittenCellRecordId = 'DataKitCell:not-written';

/**
 * Applies one request for a `Custom::DataKitCell` resource: create and update write the record of the
 * cell the properties name, delete removes the record the physical id names. The physical id is the cell
 * name, so renaming a cell is a replacement and CloudFormation deletes the old name's record after the
 * new one is written. Bad properties are a FAILED outcome naming the field; DynamoDB errors are thrown
 * (the caller answers them with `failedCellRecordId`).
 */
export async function applyCellRecordRequest(
  records: StackCellRecords,
  request: CustomResourceRequest,
): Promise<CustomResourceOutcome> {
  if (request.RequestType === 'Delete') {
    const name = cellNameSchema.safeParse(request.PhysicalResourceId);
    // Anything else is the id of a create that failed before writing: there is nothing to delete.
    if (name.success) await records.delete(name.data);
    return { status: 'SUCCESS', physicalResourceId: request.PhysicalResourceId };
  }
  const properties = cellRecordPropertiesSchema.safeParse(request.ResourceProperties);
  if (!properties.success) {
    return {
      status: 'FAILED',
      physicalResourceId:
        request.RequestType === 'Update' ? request.PhysicalResourceId : unwrittenCellRecordId,
      reason: `invalid cell properties: ${properties.error.issues
        .map((issue) => `${formatPath(issue.path) ?? '(properties)'}: ${issue.message}`)
        .join('; ')}`,
    };
  }
  await records.put(properties.data);
  return { status: 'SUCCESS', physicalResourceId: properties.data.name };
}

/**
 * The physical id to answer a request that threw with: the resource keeps its id, and a create keeps the
 * name it may have written under, so the rollback's delete removes the record.
 */
export function failedCellRecordId(request: CustomResourceRequest): string {
  if (request.RequestType !== 'Create') return request.PhysicalResourceId;
  const properties = cellRecordPropertiesSchema.safeParse(request.ResourceProperties);
  return properties.success ? properties.data.name : unwrittenCellRecordId;
}
