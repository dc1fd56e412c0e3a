import { Stack, Validations } from 'aws-cdk-lib';
import { CfnPolicy } from 'aws-cdk-lib/aws-iam';
// The function cdk-nag itself uses to render a resource into a finding id, so ids match exactly.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { Construct } from 'constructs';
import { z } from 'zod';

const policyDocumentSchema = z.object({
  Statement: z.array(z.object({ Effect: z.string(), Resource: z.unknown() })).default([]),
});

/**
 * Acknowledges `AwsSolutions-IAM5[Resource::<table ARN>/index/*]` on every IAM policy under `scope`.
 *
 * `ITable.grant*` always grants on `<table ARN>/index/*` when the table has indexes, and the finding id
 * embeds the rendered table ARN, which for a table of another stack (a cross-stack reference) exists
 * only once references are resolved. Construct validations run after that, before cdk-nag, so the
 * acknowledgement is recorded there with the exact id cdk-nag reports.
 */
export function acknowledgeTableIndexWildcards(scope: Construct, reason: string): void {
  scope.node.addValidation({
    validate: () => {
      const policies = scope.node.findAll().filter((child) => child instanceof CfnPolicy);
      for (const policy of policies) {
        const document = policyDocumentSchema.parse(Stack.of(policy).resolve(policy.policyDocument));
        for (const statement of document.Statement) {
          if (statement.Effect !== 'Allow') continue;
          const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
          for (const resource of resources) {
            const rendered = flattenCfnReference(resource);
            if (rendered.endsWith('/index/*')) {
              Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason });
            }
          }
        }
      }
      return [];
    },
  });
}

/**
 * Acknowledges `AwsSolutions-IAM5[Resource::<resource>]` on `scope` (and what it holds) for one resource
 * pattern a policy under it names: the id is rendered from the resource exactly as cdk-nag renders it, so
 * the acknowledgement covers that pattern and nothing else. For resources of this stack only (pseudo
 * parameters, literals, own references); a reference to another stack renders only at synth time.
 */
export function acknowledgeWildcardResource(scope: Construct, resource: string, reason: string): void {
  const rendered = flattenCfnReference(Stack.of(scope).resolve(resource));
  if (!rendered.includes('*')) throw new Error(`${rendered} has no wildcard to acknowledge`);
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason });
}
