/**
 * The single DynamoDB table, defined once: the CDK stack and the embedded server both create it from
 * this description, and `lib/adapters/dynamodb/keys.ts` is the only module that builds its keys.
 * Every index projects all attributes; GSIs are overloaded across entity types (see docs/data-model.md).
 */
export const tableDefinition = {
  partitionKey: 'PK',
  sortKey: 'SK',
  timeToLiveAttribute: 'expiresAt',
  globalSecondaryIndexes: [
    { indexName: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
    { indexName: 'GSI2', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
    { indexName: 'GSI3', partitionKey: 'GSI3PK', sortKey: 'GSI3SK' },
  ],
} as const;

export type IndexName = (typeof tableDefinition.globalSecondaryIndexes)[number]['indexName'];

/** Every key attribute is a string. */
export const keyAttributeNames: readonly string[] = [
  tableDefinition.partitionKey,
  tableDefinition.sortKey,
  ...tableDefinition.globalSecondaryIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
];

/** The default physical table name in embedded mode and tests; AWS names come from CloudFormation. */
export const defaultTableName = 'datakit';

/**
 * How every table key of the audit trail starts. Shared with the stacks: the IAM policy of every function
 * that writes the table denies updating, deleting or batch-overwriting items under it (ADR 0018).
 */
export const auditPartitionPrefix = 'AUDIT#';
