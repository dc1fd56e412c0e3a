import type { NodeId } from '../domain/lineage/node-id.js';

/**
 * The current edges of one node. For a job: `in` = datasets it reads, `out` = datasets it writes. For a
 * dataset: `in` = jobs that write it, `out` = jobs that read it. For a dataset field: `in` = the fields it is
 * computed from, `out` = the fields computed from it.
 */
export interface NodeAdjacency {
  readonly in: readonly NodeId[];
  readonly out: readonly NodeId[];
}

/**
 * Read side of the lineage graph (adjacency items in DynamoDB). The traversals call `neighbours` once per BFS
 * level with every node of that level, so an adapter answers each call with one BatchGet or parallel Queries
 * and a lineage query costs O(nodes returned), whatever the size of the whole graph.
 */
export interface LineageGraphPort {
  /**
   * Edges of each requested node. A node that exists without edges maps to empty lists; a node that does not
   * exist is absent from the map.
   */
  neighbours(nodeIds: readonly NodeId[]): Promise<ReadonlyMap<NodeId, NodeAdjacency>>;
}
