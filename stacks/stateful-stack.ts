import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, type ITable, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IRepository } from 'aws-cdk-lib/aws-ecr';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { tableDefinition } from '../lib/contracts/table.js';
import { PackageRepositories } from './constructs/package-repositories.js';
import { RawEventsBucket } from './constructs/raw-events-bucket.js';

export interface StatefulStackProps extends StackProps {
  /** Prefix of physical names (the event bus). */
  readonly stage: string;
  /** Days the bus archive keeps events; 0 keeps them indefinitely. @default 90 */
  readonly eventArchiveRetentionDays?: number;
  /** @default 'aws-managed' */
  readonly tableEncryption?: 'aws-managed' | 'customer-managed';
  /** @default false */
  readonly tableContributorInsights?: boolean;
  /** ECR repositories to create for packages. @default [] */
  readonly packageRepositories?: readonly string[];
  /** Existing ECR repositories that hold packages. @default [] */
  readonly existingPackageRepositories?: readonly string[];
  /** @default 14 */
  readonly untaggedImageExpiryDays?: number;
  /** Days raw lineage events are kept (their S3 objects expire a day after their items); 0 keeps them. @default 0 */
  readonly rawEventRetentionDays?: number;
}

/**
 * Everything that holds data and outlives deployments: the single table (from `tableDefinition`) and
 * the `datakit` event bus with its archive. Kept apart from the stateless stacks so those can be
 * replaced freely; the table is retained and deletion-protected.
 */
export class StatefulStack extends Stack {
  readonly table: ITable;
  readonly eventBus: IEventBus;
  /** Raw lineage events too large for a table item (retained, private, TLS-only). */
  readonly rawEventsBucket: IBucket;
  /** Where packages are pushed (created and imported ECR repositories). */
  readonly packageRepositories: readonly IRepository[];

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const customerKey =
      props.tableEncryption === 'customer-managed'
        ? new Key(this, 'TableKey', {
            description: 'Encrypts the DataKit table',
            enableKeyRotation: true,
            removalPolicy: RemovalPolicy.RETAIN,
          })
        : undefined;

    const table = new Table(this, 'Table', {
      partitionKey: { name: tableDefinition.partitionKey, type: AttributeType.STRING },
      sortKey: { name: tableDefinition.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      timeToLiveAttribute: tableDefinition.timeToLiveAttribute,
      ...(customerKey === undefined
        ? { encryption: TableEncryption.AWS_MANAGED }
        : { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: customerKey }),
      ...(props.tableContributorInsights === true
        ? { contributorInsightsSpecification: { enabled: true } }
        : {}),
    });
    for (const index of tableDefinition.globalSecondaryIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        ...(props.tableContributorInsights === true
          ? { contributorInsightsSpecification: { enabled: true } }
          : {}),
      });
    }

    const eventBus = new EventBus(this, 'EventBus', {
      eventBusName: `${props.stage}-datakit`,
      description: 'DataKit domain events (registrations, promotions, runs, dataset updates)',
    });
    const retentionDays = props.eventArchiveRetentionDays ?? 90;
    eventBus.archive('Archive', {
      description: 'Every event on the DataKit bus, for replay',
      // An archive needs a pattern; the account matches every event the bus receives.
      eventPattern: { account: [this.account] },
      ...(retentionDays === 0 ? {} : { retention: Duration.days(retentionDays) }),
    });

    this.packageRepositories = new PackageRepositories(this, 'PackageRepositories', {
      create: props.packageRepositories ?? [],
      existing: props.existingPackageRepositories ?? [],
      untaggedImageExpiryDays: props.untaggedImageExpiryDays ?? 14,
    }).repositories;

    this.rawEventsBucket = new RawEventsBucket(this, 'RawEvents', {
      retentionDays: props.rawEventRetentionDays ?? 0,
    }).bucket;

    new CfnOutput(this, 'TableName', { value: table.tableName, description: 'The DataKit table' });
    new CfnOutput(this, 'EventBusName', {
      value: eventBus.eventBusName,
      description: 'The DataKit event bus',
    });

    // aws-cdk-lib's classes implement optional interface members as `T | undefined`, which
    // `exactOptionalPropertyTypes` rejects; the assertions only restate what the classes implement.
    this.table = table as ITable;
    this.eventBus = eventBus as IEventBus;
  }
}
