import * as z from 'zod';
import { defaultPackageNamespace } from './packages.js';

/** `GET /v1/pipeline` query: the whole graph, or one destination DataSet and everything upstream of it. */
export const pipelineQuerySchema = z.object({
  /** `<namespace>/<name>`, or a bare name in namespace `default`. */
  destination: z
    .string()
    .regex(/^(?:[a-z][a-z0-9-]{0,62}\/)?[a-z][a-z0-9-]{0,62}$/, 'must be <namespace>/<name> or <name>')
    .transform((destination) => {
      const [first = '', second] = destination.split('/');
      return second === undefined
        ? { namespace: defaultPackageNamespace, name: first }
        : { namespace: first, name: second };
    })
    .optional(),
  format: z.enum(['json', 'mermaid', 'dot']).default('json'),
  /** The reactive graph of what is deployed in a cell (every environment, or `env`), with each edge's trigger. */
  cell: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be a cell name')
    .optional(),
  env: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,15}$/, 'must be an environment name')
    .optional(),
});

export const pipelineNodeSchema = z.object({
  /** `dataset:<ns>/<name>` or `transform:<ns>/<name>`. */
  id: z.string(),
  type: z.enum(['dataset', 'transform']),
  namespace: z.string(),
  name: z.string(),
  /** The Transform's latest registered version. */
  version: z.string().optional(),
});

/** The dependency graph across registered packages: DataSet → Transform (input) → DataSet (output). */
export const pipelineGraphSchema = z
  .object({
    nodes: z.array(pipelineNodeSchema),
    edges: z.array(
      z.object({
        from: z.string(),
        to: z.string(),
        /** Deployed graphs: how updates of the DataSet start the Transform (`on-change`, `schedule`, …). */
        trigger: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'PipelineGraph' });

export type PipelineGraph = z.infer<typeof pipelineGraphSchema>;
export type PipelineNode = z.infer<typeof pipelineNodeSchema>;
