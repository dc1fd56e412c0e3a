import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import type { RegisterPackageResult } from '../../lib/domain/registry/register-package.js';
import type { AuditChange } from '../../lib/runtime/audit-trail.js';
import { registryDeadline } from '../../lib/runtime/deadline.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { withEvents } from '../../lib/runtime/wiring/events.js';
import { type RegistrationDependencies, withRegistration } from '../../lib/runtime/wiring/registration.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

/** `POST /v1/registrations`: registers synchronously and answers with the record. */
export function createRegistrationsApi(deps: SharedDependencies & RegistrationDependencies): ApiHandler {
  return createApiHandler(
    'registrations-api',
    {
      createRegistration: async ({ body, caller, authorize }, context) => {
        const result = await deps.registerPackage({
          reference: body.reference,
          source: 'api',
          actor: caller.principal,
          authorize,
          signal: registryDeadline(context, deps.config.FUNCTION_TIMEOUT_MS),
        });
        deps.logger.info('registration', {
          status: result.status,
          id: result.record.id,
          reference: body.reference,
        });
        return { status: statusOf(result), body: result.record, audit: auditOf(result) };
      },
    },
    deps,
  );
}

/** The audit record's target and after: the package once its identity is known (not a rejection's claim). */
function auditOf({ record }: RegisterPackageResult): AuditChange {
  const after = {
    registrationId: record.id,
    status: record.status,
    ...(record.version === undefined ? {} : { version: record.version }),
    ...(record.digest === undefined ? {} : { digest: record.digest }),
    ...(record.problems === undefined ? {} : { codes: [...new Set(record.problems.map((p) => p.code))] }),
  };
  const identified = record.status !== 'rejected' || record.problems?.some((p) => p.code === 'E021') === true;
  return identified && record.namespace !== undefined && record.name !== undefined
    ? { target: `package:${record.namespace}/${record.name}`, namespace: record.namespace, after }
    : { after };
}

/** 201 registered, 200 duplicate, 409 rejected as E021 (the version exists), 422 any other rejection. */
export function statusOf(result: RegisterPackageResult): number {
  if (result.status === 'registered') return 201;
  if (result.status === 'duplicate') return 200;
  return result.conflict ? 409 : 422;
}

let instance: Promise<ApiHandler> | undefined;
export const handler: ApiHandler = async (event, context) => {
  instance ??= lambdaDependencies(withEvents, withRegistration).then(createRegistrationsApi);
  return (await instance)(event, context);
};
