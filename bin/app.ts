import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createControlPlane } from '../stacks/control-plane.js';
import { settingsOf } from '../stacks/settings.js';

/** The CDK app: `npx cdk synth|deploy --all`; settings come from the `datakit:*` context (cdk.json, -c). */
const app = new App();
createControlPlane(app, settingsOf(app.node));
// cdk-nag 3 runs as a policy-validation plugin during synth; unacknowledged errors fail the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
