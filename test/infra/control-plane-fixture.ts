import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnResource, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { z } from 'zod';
import { type ControlPlane, createControlPlane } from '../../stacks/control-plane.js';
import { settingsOf } from '../../stacks/settings.js';

const cdkJsonSchema = z.object({ app: z.string(), context: z.record(z.string(), z.unknown()) });

/** cdk.json as the CLI reads it: the app command and the context (feature flags and settings). */
export const cdkJson = cdkJsonSchema.parse(
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')),
);

export interface SynthesizedControlPlane extends ControlPlane {
  readonly app: App;
  readonly outdir: string;
}

/**
 * The app as `bin/app.ts` builds it, with cdk.json's context plus `context`; `nag` adds the cdk-nag
 * plugin as `bin/app.ts` does. Bundling runs once per call, so share one per test file.
 */
export function buildControlPlane(
  context: Readonly<Record<string, unknown>> = {},
  options: { readonly nag?: boolean } = {},
): SynthesizedControlPlane {
  const outdir = mkdtempSync(join(tmpdir(), 'datakit-cdk-'));
  const app = new App({ outdir, context: { ...cdkJson.context, ...context } });
  const controlPlane = createControlPlane(app, settingsOf(app.node));
  if (options.nag === true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { ...controlPlane, app, outdir };
}

/** The templates of both stacks (synthesizes the app once). */
export function templatesOf(controlPlane: ControlPlane): { stateful: Template; api: Template } {
  return { stateful: Template.fromStack(controlPlane.stateful), api: Template.fromStack(controlPlane.api) };
}

/** The logical id of a construct's CloudFormation resource, e.g. a function's `AWS::Lambda::Function`. */
export function logicalIdOf(construct: IConstruct): string {
  const resource = construct.node.defaultChild;
  if (!(resource instanceof CfnResource)) throw new Error(`${construct.node.path} has no CfnResource`);
  const id: unknown = resource.stack.resolve(resource.logicalId);
  if (typeof id !== 'string') throw new Error(`${construct.node.path} has no literal logical id`);
  return id;
}
