import { CustomResource, Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type CellRecordProperties, cellRecordResourceType } from '../../lib/contracts/cell-resources.js';
import { ApiFunction } from './api-function.js';
import { denyAuditRewrites } from './api-permissions.js';

export interface CellRecordProps {
  /** The table the record lives in. */
  readonly table: ITable;
  /** The cell as the stack declares it; the runtime holds references to the stack's resources. */
  readonly cell: CellRecordProperties;
  readonly logRetention: RetentionDays;
}

/**
 * The cell's record in the table (`CELL#{cell}` / `#CELL`, listed under GSI1 `CELLS`), written when the
 * stack is deployed and deleted with it, so `GET /v1/cells` lists what is deployed. A small function of
 * the stack's own (`lambdas/cell-record`) writes it rather than an `AwsCustomResource`: the record carries
 * the time it was written, which a template cannot, and the keys come from the one module that builds
 * them (docs/adr/0011-cell-stacks.md).
 */
export class CellRecord extends Construct {
  readonly resource: CustomResource;
  /** The function CloudFormation invokes for the record. */
  readonly writer: IFunction;

  constructor(scope: Construct, id: string, props: CellRecordProps) {
    super(scope, id);
    const writer = new ApiFunction(this, 'Writer', {
      name: 'cell-record',
      description: `DataKit: the record of cell ${props.cell.name} (written on deploy, deleted with the stack)`,
      environment: { TABLE_NAME: props.table.tableName },
      logRetention: props.logRetention,
      // The default retries of the SDK fit well within; CloudFormation gives up after serviceTimeout.
      timeout: Duration.seconds(60),
      memorySize: 256,
    });
    writer.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [props.table.tableArn],
      }),
    );
    // It may update and delete items of the table: never an audit record.
    denyAuditRewrites(writer.function, props.table);
    props.table.encryptionKey?.grant(
      writer.function,
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey',
      'kms:DescribeKey',
    );
    this.writer = writer.function;
    this.resource = new CustomResource(this, 'Record', {
      serviceToken: writer.function.functionArn,
      resourceType: cellRecordResourceType,
      properties: props.cell,
      // The function always answers; this bounds a stack's wait should it never run at all.
      serviceTimeout: Duration.minutes(5),
    });
  }
}
