import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildControlPlane, type SynthesizedControlPlane } from './control-plane-fixture.js';

/** The part of the cloud assembly's `validation-report.json` these tests read. */
const validationReportSchema = z.object({
  pluginReports: z.array(
    z.object({
      pluginName: z.string(),
      violations: z.array(
        z.object({
          ruleName: z.string(),
          severity: z.string(),
          violatingConstructs: z.array(z.object({ constructPath: z.string() })).default([]),
        }),
      ),
    }),
  ),
});

interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** Every `Validations.of(x).acknowledge(...)` in the app, read back from the construct metadata. */
function acknowledgementsOf(controlPlane: SynthesizedControlPlane): Acknowledgement[] {
  return controlPlane.app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(z.record(z.string(), z.string()).parse(entry.data)).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

let controlPlane: SynthesizedControlPlane;
let synthError: unknown;

beforeAll(() => {
  // The app exactly as bin/app.ts builds it: cdk.json's context and the AwsSolutions pack.
  controlPlane = buildControlPlane({}, { nag: true });
  try {
    controlPlane.app.synth();
  } catch (error) {
    synthError = error;
  }
});

describe('cdk-nag (AwsSolutions)', () => {
  it('synthesizes without a validation failure', () => {
    expect(synthError).toBeUndefined();
  });

  it('reports zero unacknowledged errors or warnings from any validation plugin', () => {
    const report = validationReportSchema.parse(
      JSON.parse(readFileSync(join(controlPlane.outdir, 'validation-report.json'), 'utf8')),
    );
    const findings = report.pluginReports.flatMap((plugin) =>
      plugin.violations.map(
        (violation) =>
          `${plugin.pluginName} ${violation.severity} ${violation.ruleName} at ${violation.violatingConstructs
            .map((construct) => construct.constructPath)
            .join(', ')}`,
      ),
    );

    expect(findings).toEqual([]);
  });

  it('acknowledges only the findings this design accepts', () => {
    const ids = new Set(acknowledgementsOf(controlPlane).map((acknowledgement) => acknowledgement.id));

    expect([...ids].sort()).toEqual(
      [
        'AwsSolutions-APIG2',
        'AwsSolutions-APIG3',
        'AwsSolutions-COG4',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'AwsSolutions-IAM5[Resource::*]',
        'AwsSolutions-L1',
        // The raw lineage events bucket: only the lineage functions reach it, audited by the API access log.
        'AwsSolutions-S1',
        ...[...ids].filter((id) => /^AwsSolutions-IAM5\[Resource::.+\/raw-events\/\*\]$/.test(id)),
        // Dead-letter queues (the registration worker's, the schedules') need no dead-letter queue of their own.
        'AwsSolutions-SQS3',
        // Deployments create their schedules at run time, inside the stage's schedule group.
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/datakit-dev/*]',
        ...[...ids].filter((id) => /^AwsSolutions-IAM5\[Resource::.+\/index\/\*\]$/.test(id)),
        // The promotion pipelines: CodePipeline's artifact store grant, its Lambda invoke grants, the
        // AWS-managed SNS key of the approvals topics, the request objects (per environment, and the API's).
        'AwsSolutions-IAM5[Action::s3:Abort*]',
        'AwsSolutions-IAM5[Action::s3:DeleteObject*]',
        'AwsSolutions-IAM5[Action::s3:GetBucket*]',
        'AwsSolutions-IAM5[Action::s3:GetObject*]',
        'AwsSolutions-IAM5[Action::s3:List*]',
        'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
        ...[...ids].filter((id) =>
          [
            /^AwsSolutions-IAM5\[Resource::<PromotionsArtifacts\w+\.Arn>\/\*\]$/,
            /^AwsSolutions-IAM5\[Resource::<PromotionsStagesFunction\w+\.Arn>:\*\]$/,
            /^AwsSolutions-IAM5\[Resource::<PromotionsRequests\w+\.Arn>\/requests\/(int\/|prod\/)?\*\]$/,
          ].some((pattern) => pattern.test(id)),
        ),
      ].sort(),
    );
  });

  it('acknowledges the table-index wildcard only on the policies of functions that read the table', () => {
    const indexAcknowledgements = acknowledgementsOf(controlPlane).filter((acknowledgement) =>
      acknowledgement.id.endsWith('/index/*]'),
    );

    expect(indexAcknowledgements.map((acknowledgement) => acknowledgement.path).sort()).toEqual([
      'dev-datakit-api/AccessApi/Role/DefaultPolicy/Resource',
      'dev-datakit-api/CellsApi/Role/DefaultPolicy/Resource',
      'dev-datakit-api/GovernanceApi/Role/DefaultPolicy/Resource',
      'dev-datakit-api/LineageApi/Role/DefaultPolicy/Resource',
      'dev-datakit-api/LineageIngest/Role/DefaultPolicy/Resource',
      'dev-datakit-api/PackagesApi/Role/DefaultPolicy/Resource',
      'dev-datakit-api/Promotions/Stages/Role/DefaultPolicy/Resource',
      'dev-datakit-api/PromotionsApi/Role/DefaultPolicy/Resource',
      'dev-datakit-api/RegistrationWorker/Worker/Role/DefaultPolicy/Resource',
      'dev-datakit-api/RegistrationsApi/Role/DefaultPolicy/Resource',
      'dev-datakit-api/RunSteps/Role/DefaultPolicy/Resource',
      'dev-datakit-api/RunsApi/Role/DefaultPolicy/Resource',
      'dev-datakit-api/SystemApi/Role/DefaultPolicy/Resource',
      'dev-datakit-api/Triggers/Worker/Role/DefaultPolicy/Resource',
    ]);
  });

  it('gives every acknowledgement an exact rule id and a real reason', () => {
    const acknowledgements = acknowledgementsOf(controlPlane);

    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const { id, reason } of acknowledgements) {
      expect(id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(reason.length, id).toBeGreaterThanOrEqual(60);
      expect(reason, id).not.toMatch(/^(todo|n\/a|none|suppress(ed)?|ignore(d)?|ok)\b/i);
    }
  });
});
