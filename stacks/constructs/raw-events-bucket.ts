import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { CfnPolicy, Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
  StorageClass,
} from 'aws-cdk-lib/aws-s3';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import { Construct } from 'constructs';
import { z } from 'zod';

/** Key prefix of raw lineage events in the bucket (`raw-events/<day>/<event id>.json`). */
export const rawEventsPrefix = 'raw-events/';

export interface RawEventsBucketProps {
  /** Days before objects move to S3 Standard-IA (they are read rarely: replays, large-event listings). @default 30 */
  readonly infrequentAccessAfterDays?: number;
  /**
   * Days raw events are kept (`datakit:lineageEventRetentionDays`); objects expire one day after the table
   * items pointing at them, so no visible item ever points at a missing object. 0 keeps them. @default 0
   */
  readonly retentionDays?: number;
}

/**
 * The bucket of raw OpenLineage events too large for a table item (> 350 KB). Raw events are the
 * lineage source of truth, kept for the configured retention; the bucket is retained, private, encrypted
 * and TLS-only. Objects are immutable (keyed by content hash), so versioning would only add cost.
 */
export class RawEventsBucket extends Construct {
  readonly bucket: IBucket;

  constructor(scope: Construct, id: string, props: RawEventsBucketProps = {}) {
    super(scope, id);
    const bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'raw-events-infrequent-access',
          prefix: rawEventsPrefix,
          transitions: [
            {
              storageClass: StorageClass.INFREQUENT_ACCESS,
              transitionAfter: Duration.days(props.infrequentAccessAfterDays ?? 30),
            },
          ],
          ...((props.retentionDays ?? 0) > 0
            ? { expiration: Duration.days((props.retentionDays ?? 0) + 1) }
            : {}),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the lineage functions reach this bucket, through their roles (PutObject for ingestion, GetObject ' +
        'for the events listing); every request that leads to an object access is in the API access log with ' +
        'the caller, and object-level audit is CloudTrail data events, an account-wide choice.',
    });
    // aws-cdk-lib classes vs `exactOptionalPropertyTypes`: see StatefulStack.
    this.bucket = bucket as IBucket;
  }
}

/** Lets `grantee` write raw events: PutObject under the prefix, nothing else. */
export function grantRawEventsWrite(bucket: IBucket, grantee: IGrantable): void {
  Grant.addToPrincipal({
    grantee,
    actions: ['s3:PutObject'],
    resourceArns: [bucket.arnForObjects(`${rawEventsPrefix}*`)],
  });
}

/** Lets `grantee` read raw events: GetObject under the prefix, nothing else. */
export function grantRawEventsRead(bucket: IBucket, grantee: IGrantable): void {
  Grant.addToPrincipal({
    grantee,
    actions: ['s3:GetObject'],
    resourceArns: [bucket.arnForObjects(`${rawEventsPrefix}*`)],
  });
}

const policyDocumentSchema = z.object({
  Statement: z.array(z.object({ Effect: z.string(), Resource: z.unknown() })).default([]),
});

/**
 * Acknowledges `AwsSolutions-IAM5[Resource::<bucket ARN>/raw-events/*]` where it occurs under `scope`.
 * The id embeds the bucket ARN as rendered after cross-stack references resolve, so, like the table
 * index wildcard (`nag-acknowledgements.ts`), it is computed in a construct validation with cdk-nag's
 * own renderer.
 */
export function acknowledgeRawEventObjectWildcards(scope: Construct): void {
  scope.node.addValidation({
    validate: () => {
      for (const policy of scope.node.findAll().filter((child) => child instanceof CfnPolicy)) {
        const document = policyDocumentSchema.parse(Stack.of(policy).resolve(policy.policyDocument));
        for (const statement of document.Statement) {
          if (statement.Effect !== 'Allow') continue;
          const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
          for (const resource of resources) {
            const rendered = flattenCfnReference(resource);
            if (rendered.endsWith(`/${rawEventsPrefix}*`)) {
              Validations.of(policy).acknowledge({
                id: `AwsSolutions-IAM5[Resource::${rendered}]`,
                reason:
                  'Raw lineage events are objects named by content hash under raw-events/; the lineage ' +
                  'functions may put (ingest) or get (read API) any of them and nothing else in the bucket.',
              });
            }
          }
        }
      }
      return [];
    },
  });
}
