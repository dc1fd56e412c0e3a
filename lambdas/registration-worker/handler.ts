import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { ecrImageActionEventSchema, ecrRegistryHost } from '../../lib/contracts/events/ecr.js';
import { ForbiddenError } from '../../lib/domain/errors.js';
import type { RegisterPackageResult } from '../../lib/domain/registry/register-package.js';
import { registryDeadline } from '../../lib/runtime/deadline.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { withEvents } from '../../lib/runtime/wiring/events.js';
import { type RegistrationDependencies, withRegistration } from '../../lib/runtime/wiring/registration.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

type WorkerDependencies = SharedDependencies & RegistrationDependencies;

export type RegistrationWorker = (
  event: unknown,
  context?: Context,
) => Promise<RegisterPackageResult | undefined>;

/**
 * The target of the `ECR Image Action` rule: registers the pushed image by digest, with the tag of the
 * push. Rejections are recorded by the use case and end here; failures worth retrying are thrown, so
 * Lambda's asynchronous retries and then the DLQ take over.
 */
export function createRegistrationWorker(deps: WorkerDependencies): RegistrationWorker {
  return async (event, context) => {
    const parsed = ecrImageActionEventSchema.safeParse(event);
    if (!parsed.success) {
      deps.logger.error('event is not an ECR image push', { issues: parsed.error.issues });
      return undefined;
    }
    const { account, region, detail } = parsed.data;
    const reference = `${ecrRegistryHost(account, region)}/${detail['repository-name']}@${detail['image-digest']}`;
    try {
      const result = await deps.registerPackage({
        reference,
        tag: detail['image-tag'],
        source: 'ecr',
        signal: registryDeadline(context, deps.config.FUNCTION_TIMEOUT_MS),
      });
      deps.logger.info('registration', { status: result.status, id: result.record.id, reference });
      deps.metrics?.addDimension('status', result.status);
      deps.metrics?.addMetric('Registrations', MetricUnit.Count, 1);
      return result;
    } catch (error) {
      // A registry outside the allowlist will never be allowed by retrying.
      if (error instanceof ForbiddenError) {
        deps.logger.error('registry not allowed', { reference, code: error.code });
        return undefined;
      }
      throw error;
    }
  };
}

/** The worker with logging context, X-Ray and metrics around it (logger → tracer → metrics). */
export function instrumentedRegistrationWorker(
  deps: WorkerDependencies,
): (event: unknown, context: Context) => Promise<RegisterPackageResult | undefined> {
  const chain = middy(createRegistrationWorker(deps), { timeoutEarlyInMillis: 0 }).use(
    injectLambdaContext(deps.logger, { resetKeys: true }),
  );
  if (deps.tracer !== undefined) chain.use(captureLambdaHandler(deps.tracer, { captureResponse: false }));
  if (deps.metrics !== undefined) chain.use(logMetrics(deps.metrics));
  return (event, context) => chain(event, context);
}

let instance: Promise<ReturnType<typeof instrumentedRegistrationWorker>> | undefined;
export const handler = async (
  event: unknown,
  context: Context,
): Promise<RegisterPackageResult | undefined> => {
  instance ??= lambdaDependencies(withEvents, withRegistration).then(instrumentedRegistrationWorker);
  return (await instance)(event, context);
};
