import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import type { DeprecationOutcome } from '../../lib/domain/governance/deprecate.js';
import { fitReport, renderCsv, renderMarkdown } from '../../lib/domain/governance/report-render.js';
import type { AuditChange } from '../../lib/runtime/audit-trail.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { withEvents } from '../../lib/runtime/wiring/events.js';
import { type GovernanceDependencies, withGovernance } from '../../lib/runtime/wiring/governance.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

/** The governance report and deprecations (`/v1/governance/report`, `…/deprecation`). */
export function createGovernanceApi(deps: SharedDependencies & GovernanceDependencies): ApiHandler {
  return createApiHandler(
    'governance-api',
    {
      getGovernanceReport: async ({ query }) => {
        const report = await deps.governanceReport(query.filter);
        if (query.format === 'csv')
          return { status: 200, text: fitReport(renderCsv(report)), contentType: 'text/csv; charset=utf-8' };
        if (query.format === 'markdown')
          return {
            status: 200,
            text: fitReport(renderMarkdown(report)),
            contentType: 'text/markdown; charset=utf-8',
          };
        fitReport(JSON.stringify(report));
        return { status: 200, body: report };
      },
      deprecateDataSet: async ({ path, body, caller }) => {
        const outcome = await deps.deprecations.deprecateDataSet({ ...path, ...body, by: caller.principal });
        return {
          status: outcome.created ? 201 : 200,
          body: outcome.result,
          audit: deprecationChange(outcome),
        };
      },
      deprecatePackage: async ({ path, body, caller }) => {
        const outcome = await deps.deprecations.deprecatePackage({ ...path, ...body, by: caller.principal });
        return {
          status: outcome.created ? 201 : 200,
          body: outcome.result,
          audit: deprecationChange(outcome),
        };
      },
    },
    deps,
  );
}

/** A deprecation's before → after: the reason and sunset. */
function deprecationChange(outcome: DeprecationOutcome): AuditChange {
  const { reason, sunset } = outcome.result.deprecation;
  return {
    after: { reason, sunset, consumers: outcome.result.impact.consumerCount },
    ...(outcome.previous === undefined ? {} : { before: outcome.previous }),
  };
}

let instance: Promise<ApiHandler> | undefined;
export const handler: ApiHandler = async (event, context) => {
  instance ??= lambdaDependencies((deps) => withEvents(deps), withGovernance).then(createGovernanceApi);
  return (await instance)(event, context);
};
