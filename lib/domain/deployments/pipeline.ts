import type { Deployment } from '../../contracts/api/deployments.js';
import type { PipelineGraph } from '../../contracts/api/pipeline.js';
import type { PipelineEdge } from '../registry/model.js';
import { buildPipelineGraph } from '../registry/pipeline.js';

/** How a deployed Transform is started, as an edge label: `on-change`, `schedule <cron> (<time zone>)`, … */
function triggerLabel(deployment: Deployment): string {
  const trigger = deployment.trigger;
  if (trigger === undefined) return 'manual';
  const policies = trigger.policy === 'composite' ? (trigger.policies ?? []) : [trigger.policy];
  return policies
    .map((policy) =>
      policy === 'schedule' ? `schedule ${trigger.cron ?? ''} (${trigger.timezone ?? 'UTC'})` : policy,
    )
    .join(' | ');
}

/**
 * The reactive pipeline as deployed in a cell: DataSet → Transform for every input of a deployed
 * Transform (labelled with its trigger), Transform → DataSet for every output. The registry's graph
 * says what could run; this one says what runs, and how it is started.
 */
export function buildDeployedPipelineGraph(deployments: readonly Deployment[]): PipelineGraph {
  const edges: PipelineEdge[] = deployments.flatMap((deployment) => {
    const key = {
      namespace: deployment.namespace,
      name: deployment.name,
      version: deployment.version,
      digest: deployment.digest,
    };
    return [
      ...(deployment.inputs ?? []).map((input) => ({
        ...key,
        dataset: { namespace: input.namespace, name: input.name },
        role: 'consumer' as const,
      })),
      ...(deployment.outputs ?? []).map((output) => ({
        ...key,
        dataset: { namespace: output.namespace, name: output.name },
        role: 'producer' as const,
      })),
    ];
  });
  const graph = buildPipelineGraph(edges) ?? { nodes: [], edges: [] };
  const labels = new Map(
    deployments.map((deployment) => [
      `transform:${deployment.namespace}/${deployment.name}`,
      triggerLabel(deployment),
    ]),
  );
  return {
    nodes: graph.nodes,
    edges: graph.edges.map((edge) => {
      const label = labels.get(edge.to);
      return label === undefined ? edge : { ...edge, trigger: label };
    }),
  };
}
