import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { CellFunctions, CellStack } from '../../stacks/cell-stack.js';
import { createCellStacks } from '../../stacks/control-plane.js';
import { type Settings, settingsOf } from '../../stacks/settings.js';
import { StatefulStack } from '../../stacks/stateful-stack.js';
import { cdkJson } from './control-plane-fixture.js';

/**
 * Stand-ins for the control-plane functions a cell stack grants to (the API stack will deploy the real
 * ones): real Lambda functions, each with its own role, in a stack of their own, as the API stack's are.
 */
export class CellFunctionsStack extends Stack {
  readonly functions: CellFunctions;

  constructor(scope: App, id: string) {
    super(scope, id);
    const fn = (name: string) =>
      new LambdaFunction(this, name, {
        runtime: Runtime.NODEJS_22_X,
        architecture: Architecture.ARM_64,
        handler: 'index.handler',
        code: Code.fromInline('export const handler = async () => ({});'),
        role: new Role(this, `${name}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') }),
      });
    this.functions = {
      runSteps: fn('RunSteps'),
      runsApi: fn('RunsApi'),
      cellsApi: fn('CellsApi'),
      deployer: fn('Deployer'),
      triggerWorker: fn('TriggerWorker'),
      pipelineDeployer: fn('PipelineDeployer'),
    };
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Test stand-ins on nodejs22.x, the runtime of the real control-plane functions; they are never deployed.',
    });
  }
}

export interface CellApp {
  readonly app: App;
  readonly outdir: string;
  readonly settings: Settings;
  readonly stateful: StatefulStack;
  readonly functionsStack: CellFunctionsStack;
  readonly cells: readonly CellStack[];
}

/**
 * The cell stacks as `createControlPlane` builds them (cdk.json's context plus `context`, one stack per
 * `datakit:cells` entry, the stateful stack's table), with test functions in place of the API stack's.
 */
export function buildCellApp(
  context: Readonly<Record<string, unknown>>,
  options: { readonly nag?: boolean } = {},
): CellApp {
  const outdir = mkdtempSync(join(tmpdir(), 'datakit-cells-'));
  const app = new App({ outdir, context: { ...cdkJson.context, ...context } });
  const settings = settingsOf(app.node);
  const stateful = new StatefulStack(app, `${settings.stage}-datakit-stateful`, { stage: settings.stage });
  const functionsStack = new CellFunctionsStack(app, `${settings.stage}-datakit-test-functions`);
  const cells = createCellStacks(app, settings, {
    table: stateful.table,
    functions: functionsStack.functions,
  });
  if (options.nag === true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, outdir, settings, stateful, functionsStack, cells };
}
