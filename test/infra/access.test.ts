import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditPartitionPrefix } from '../../lib/contracts/table.js';
import { auditRewriteActions } from '../../stacks/constructs/api-permissions.js';
import { buildControlPlane, type SynthesizedControlPlane, templatesOf } from './control-plane-fixture.js';

/**
 * Access control and the audit trail in AWS (ADR 0018): every role that may write the table is denied
 * rewriting the audit trail, the settings reach every function, and the records leave through the bus
 * whose archive keeps them.
 */

const context = {
  'datakit:cells': [{ name: 'blue' }],
  'datakit:auditRetentionDays': 730,
  'datakit:accessControl': 'auto',
  'datakit:platformAdminGroup': 'data-platform',
  'datakit:namespaceReadAccess': 'restricted',
  'datakit:eventArchiveRetentionDays': 3650,
};

type Statement = {
  readonly Effect: string;
  readonly Action: string | readonly string[];
  readonly Resource?: unknown;
  readonly Condition?: unknown;
};
type PolicyResource = {
  readonly Properties: {
    readonly PolicyDocument: { readonly Statement: readonly Statement[] };
    readonly Roles?: readonly unknown[];
  };
};

/** Actions that write items (what `grantReadWriteData` and the cell record's own statement allow). */
const itemWrites = new Set([
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
]);

const actionsOf = (statement: Statement): readonly string[] =>
  typeof statement.Action === 'string' ? [statement.Action] : statement.Action;

const denyAuditRewrites = {
  Effect: 'Deny',
  // CDK sorts a statement's actions.
  Action: [...auditRewriteActions].sort(),
  Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [`${auditPartitionPrefix}*`] } },
};

let controlPlane: SynthesizedControlPlane;
let templates: { readonly name: string; readonly template: Template }[];

beforeAll(() => {
  controlPlane = buildControlPlane(context);
  const { stateful, api } = templatesOf(controlPlane);
  templates = [
    { name: 'stateful', template: stateful },
    { name: 'api', template: api },
    ...controlPlane.cells.map((cell) => ({ name: cell.stackName, template: Template.fromStack(cell) })),
  ];
});

describe('the append-only audit trail', () => {
  it('denies every policy that writes items updating, deleting or batch-writing AUDIT# items', () => {
    let writers = 0;
    for (const { name, template } of templates) {
      const policies = template.findResources('AWS::IAM::Policy') as Record<string, PolicyResource>;
      for (const [id, policy] of Object.entries(policies)) {
        const statements = policy.Properties.PolicyDocument.Statement;
        const writes = statements.some(
          (statement) =>
            statement.Effect === 'Allow' && actionsOf(statement).some((action) => itemWrites.has(action)),
        );
        if (!writes) continue;
        writers++;
        expect(statements, `${name}/${id}`).toEqual(
          expect.arrayContaining([expect.objectContaining(denyAuditRewrites)]),
        );
      }
    }
    // The writing API functions, the registration worker, run steps, triggers, pipeline stages, cell record.
    expect(writers).toBeGreaterThanOrEqual(12);
  });

  it('scopes the Deny to the table the policy writes, by the AUDIT# leading keys only', () => {
    const { api } = templatesOf(controlPlane);
    const policies = api.findResources('AWS::IAM::Policy') as Record<string, PolicyResource>;
    for (const [id, policy] of Object.entries(policies)) {
      const statements = policy.Properties.PolicyDocument.Statement;
      const deny = statements.find((statement) => statement.Effect === 'Deny');
      const write = statements.find(
        (statement) => statement.Effect === 'Allow' && actionsOf(statement).includes('dynamodb:PutItem'),
      );
      if (deny === undefined || write === undefined) continue;
      // The table itself (the Allow's first resource; its second is the table's indexes).
      const [table] = Array.isArray(write.Resource) ? write.Resource : [write.Resource];
      expect(deny.Resource, id).toEqual(table);
    }
  });

  it('leaves single puts allowed, which the audit store makes only with attribute_not_exists', () => {
    expect(auditRewriteActions).not.toContain('dynamodb:PutItem');
    expect(auditRewriteActions).toEqual(
      expect.arrayContaining(['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']),
    );
  });
});

describe('settings', () => {
  it('reach every API function: enforcement, platform-admin group, read access and audit retention', () => {
    const { api } = templatesOf(controlPlane);
    const functions = api.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { TABLE_NAME: Match.anyValue() } } },
    });
    expect(Object.keys(functions).length).toBeGreaterThan(10);
    for (const [id, fn] of Object.entries(functions)) {
      expect(fn.Properties.Environment.Variables, id).toMatchObject({
        ACCESS_CONTROL: 'auto',
        PLATFORM_ADMIN_GROUP: 'data-platform',
        NAMESPACE_READ_ACCESS: 'restricted',
        AUDIT_RETENTION_DAYS: '730',
      });
    }
  });

  it('enforce roles by default in AWS', () => {
    const defaults = buildControlPlane({});
    const { api } = templatesOf(defaults);
    api.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ACCESS_CONTROL: 'enforced',
          PLATFORM_ADMIN_GROUP: 'platform-admins',
          NAMESPACE_READ_ACCESS: 'open',
          AUDIT_RETENTION_DAYS: '400',
        }),
      },
    });
  });
});

describe('audit records on the bus', () => {
  it('are kept by the bus archive, which takes every event of the account for its retention', () => {
    const { stateful } = templatesOf(controlPlane);
    stateful.hasResourceProperties('AWS::Events::Archive', {
      EventPattern: { account: [{ Ref: 'AWS::AccountId' }] },
      RetentionDays: 3650,
    });
  });

  it('may be published by every function that writes audit records', () => {
    const { api } = templatesOf(controlPlane);
    const policies = api.findResources('AWS::IAM::Policy') as Record<string, PolicyResource>;
    for (const [id, policy] of Object.entries(policies)) {
      const statements = policy.Properties.PolicyDocument.Statement;
      const writes = statements.some(
        (statement) =>
          statement.Effect === 'Allow' &&
          actionsOf(statement).some((action) => action === 'dynamodb:PutItem'),
      );
      if (!writes) continue;
      const publishes = statements.some(
        (statement) => statement.Effect === 'Allow' && actionsOf(statement).includes('events:PutEvents'),
      );
      expect(publishes, id).toBe(true);
    }
  });
});
