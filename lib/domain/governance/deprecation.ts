import type { Deprecation } from '../../contracts/api/deprecations.js';
import type { Problem } from '../../contracts/problem.js';

/** The instant a sunset names: a date is 00:00 UTC of that day, a date-time is itself. */
export function sunsetInstant(sunset: string): number {
  return Date.parse(sunset);
}

/** True from the sunset instant on. */
export function sunsetPassed(sunset: string, now: Date): boolean {
  return now.getTime() >= sunsetInstant(sunset);
}

/** A DataSet a deploy would read, with its deprecation (its own or its declaring package's), if any. */
export interface DeployInput {
  readonly namespace: string;
  readonly name: string;
  readonly deprecation?: Deprecation | undefined;
  /** The deployment being replaced in this environment and cell reads it already. */
  readonly alreadyRead: boolean;
}

/** What deprecations mean for one deploy: warnings to record, or refusals. */
export interface DeprecationCheck {
  readonly warnings: readonly string[];
  readonly refusals: readonly Problem[];
}

/**
 * Deploying a consumer of a deprecated DataSet (or a deprecated package) warns; after the sunset it is
 * refused — unless the environment and cell already run a version that reads it (or the package itself):
 * existing consumers may still be redeployed or rolled back while they move off it, but nothing new may
 * start depending on it.
 */
export function checkDeprecations(input: {
  readonly target: { readonly namespace: string; readonly name: string };
  readonly packageDeprecation?: Deprecation | undefined;
  /** The package is deployed in this environment and cell already (any version). */
  readonly alreadyDeployed: boolean;
  readonly inputs: readonly DeployInput[];
  readonly now: Date;
}): DeprecationCheck {
  const warnings: string[] = [];
  const refusals: Problem[] = [];
  const { packageDeprecation: own, target, now } = input;
  if (own !== undefined) {
    const subject = `package ${target.namespace}/${target.name}`;
    if (sunsetPassed(own.sunset, now) && !input.alreadyDeployed) {
      refusals.push({
        code: 'DEPLOY_PACKAGE_SUNSET',
        path: `${target.namespace}/${target.name}`,
        message: `${subject} was deprecated (${own.reason}) and its sunset ${own.sunset} has passed; it may not be deployed where it does not run yet`,
      });
    } else {
      warnings.push(describe(subject, own, now));
    }
  }
  for (const dataSet of input.inputs) {
    const { deprecation } = dataSet;
    if (deprecation === undefined) continue;
    const subject = `DataSet ${dataSet.namespace}/${dataSet.name}${
      deprecation.package === undefined
        ? ''
        : ` (its package ${deprecation.package.namespace}/${deprecation.package.name})`
    }`;
    if (sunsetPassed(deprecation.sunset, now) && !dataSet.alreadyRead) {
      refusals.push({
        code: 'DEPLOY_DATASET_SUNSET',
        path: `${dataSet.namespace}/${dataSet.name}`,
        message: `${subject} was deprecated (${deprecation.reason}) and its sunset ${deprecation.sunset} has passed; no new consumer may read it`,
      });
    } else {
      warnings.push(describe(subject, deprecation, now));
    }
  }
  return { warnings, refusals };
}

function describe(subject: string, deprecation: Deprecation, now: Date): string {
  const when = sunsetPassed(deprecation.sunset, now)
    ? `its sunset ${deprecation.sunset} has passed (allowed: this environment and cell already depend on it)`
    : `sunset ${deprecation.sunset}`;
  return `${subject} is deprecated: ${deprecation.reason}; ${when}`;
}
