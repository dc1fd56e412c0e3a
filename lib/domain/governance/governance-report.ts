import type { GovernanceFilter, GovernanceReport } from '../../contracts/api/governance.js';
import type { GovernanceInputSource } from './governance-inputs.js';
import { buildGovernanceReport } from './report.js';

/** `GET /v1/governance/report`: gathers the graph (Queries and BatchGets), then builds the report. */
export function makeGovernanceReport(deps: {
  readonly inputs: GovernanceInputSource;
  readonly clock: () => Date;
}) {
  return async function governanceReport(filter: GovernanceFilter): Promise<GovernanceReport> {
    return buildGovernanceReport(await deps.inputs(), filter, deps.clock());
  };
}

export type GovernanceReporter = ReturnType<typeof makeGovernanceReport>;
