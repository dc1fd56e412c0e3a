import type { NodeAdjacency } from '../../ports/lineage-graph.js';
import {
  type DatasetFieldNodeId,
  type DatasetNodeId,
  isDatasetFieldNodeId,
  isDatasetNodeId,
  isJobNodeId,
  type JobNodeId,
  type NodeId,
} from '../lineage/node-id.js';
import { type ColumnEdge, type DataSetEdge, type DataSetKey, dataSetKeyOf } from './pii-flow.js';

/** A DataKit DataSet an OpenLineage dataset is (in a cell, when a deployment or a symlink says which). */
export interface LineageBinding {
  readonly dataSet: DataSetKey;
  readonly cell?: string | undefined;
}

/** The part of the OpenLineage graph read so far, with what DataKit knows about its nodes. */
export interface LineageView {
  /** Edges of every node read (see LineageGraphPort: jobs in = inputs, out = outputs; fields out = consumers). */
  readonly adjacency: ReadonlyMap<NodeId, NodeAdjacency>;
  readonly jobs: ReadonlyMap<JobNodeId, { readonly namespace: string; readonly name: string }>;
  /** The dataset and column of each field read (or asked for). */
  readonly fields: ReadonlyMap<
    DatasetFieldNodeId,
    { readonly dataset: DatasetNodeId; readonly field: string }
  >;
  /** The OpenLineage datasets that are DataKit DataSets. */
  readonly bindings: ReadonlyMap<DatasetNodeId, readonly LineageBinding[]>;
}

/** An edge the dataset side lists counts only when the other side confirms it (the job's IO is authoritative). */
const confirms = (view: LineageView, node: NodeId, listed: NodeId): boolean =>
  view.adjacency.get(listed)?.in.includes(node) === true;

/**
 * The OpenLineage graph as edges between DataKit DataSets: from each bound dataset, through the jobs
 * reading it and any datasets DataKit does not know, to the bound datasets they write (via the job that
 * wrote them); and the same at column level along column lineage. Only what the view holds is followed.
 */
export function projectLineage(view: LineageView): {
  dataSetEdges: DataSetEdge[];
  columnEdges: ColumnEdge[];
} {
  const dataSetEdges = new Map<string, DataSetEdge>();
  for (const [start, from] of view.bindings) {
    const seen = new Set<NodeId>([start]);
    const queue: DatasetNodeId[] = [start];
    for (const dataset of queue) {
      for (const job of view.adjacency.get(dataset)?.out ?? []) {
        if (!isJobNodeId(job) || !confirms(view, dataset, job)) continue;
        const name = view.jobs.get(job);
        for (const written of view.adjacency.get(job)?.out ?? []) {
          if (!isDatasetNodeId(written)) continue;
          const to = view.bindings.get(written);
          if (to !== undefined && name !== undefined) {
            for (const source of from) {
              for (const target of to) {
                const edge: DataSetEdge = {
                  from: source.dataSet,
                  to: target.dataSet,
                  via: {
                    type: 'job',
                    namespace: name.namespace,
                    name: name.name,
                    ...(target.cell === undefined ? {} : { cell: target.cell }),
                  },
                };
                dataSetEdges.set(
                  JSON.stringify([dataSetKeyOf(edge.from), dataSetKeyOf(edge.to), edge.via]),
                  edge,
                );
              }
            }
          } else if (to === undefined && !seen.has(written)) {
            seen.add(written);
            queue.push(written);
          }
        }
      }
    }
  }

  const columnEdges = new Map<string, ColumnEdge>();
  const bindingsOfField = (field: DatasetFieldNodeId) => {
    const info = view.fields.get(field);
    return info === undefined ? undefined : { info, bindings: view.bindings.get(info.dataset) };
  };
  for (const start of view.fields.keys()) {
    const from = bindingsOfField(start);
    if (from?.bindings === undefined) continue;
    const seen = new Set<NodeId>([start]);
    const queue: DatasetFieldNodeId[] = [start];
    for (const field of queue) {
      for (const consumer of view.adjacency.get(field)?.out ?? []) {
        if (!isDatasetFieldNodeId(consumer) || !confirms(view, field, consumer) || seen.has(consumer))
          continue;
        seen.add(consumer);
        const to = bindingsOfField(consumer);
        if (to?.bindings === undefined) {
          queue.push(consumer);
          continue;
        }
        for (const source of from.bindings) {
          for (const target of to.bindings) {
            const edge: ColumnEdge = {
              from: { dataset: source.dataSet, column: from.info.field },
              to: { dataset: target.dataSet, column: to.info.field },
              via: { type: 'column-lineage' },
            };
            columnEdges.set(
              JSON.stringify([
                dataSetKeyOf(edge.from.dataset),
                edge.from.column,
                dataSetKeyOf(edge.to.dataset),
                edge.to.column,
              ]),
              edge,
            );
          }
        }
      }
    }
  }
  return { dataSetEdges: [...dataSetEdges.values()], columnEdges: [...columnEdges.values()] };
}

/**
 * The nodes still to read before the view holds everything downstream of `roots` up to the next DataKit
 * DataSets: nodes not read yet that a walk from the roots (through jobs, unbound datasets and unbound
 * fields) meets. Empty when the view is complete for these roots.
 */
export function unreadDownstream(
  view: LineageView,
  read: ReadonlySet<NodeId>,
  roots: readonly NodeId[],
): NodeId[] {
  const unread = new Set<NodeId>();
  const seen = new Set<NodeId>();
  const queue = [...roots];
  const need = (node: NodeId): boolean => {
    if (read.has(node)) return false;
    unread.add(node);
    return true;
  };
  for (const node of queue) {
    if (seen.has(node)) continue;
    seen.add(node);
    if (need(node)) continue;
    const edges = view.adjacency.get(node);
    if (edges === undefined) continue;
    if (isDatasetNodeId(node)) {
      for (const job of edges.out) {
        if (need(job) || !confirms(view, node, job)) continue;
        for (const written of view.adjacency.get(job)?.out ?? []) {
          // A bound dataset is where this walk stops; it is a root of its own once PII reaches it.
          if (!need(written) && !(isDatasetNodeId(written) && view.bindings.has(written)))
            queue.push(written);
        }
      }
    } else if (isDatasetFieldNodeId(node)) {
      const info = view.fields.get(node);
      // Its dataset tells whether the field is a DataKit column (a symlink on the dataset node).
      if (info !== undefined) need(info.dataset);
      for (const consumer of edges.out) {
        if (!isDatasetFieldNodeId(consumer) || need(consumer) || !confirms(view, node, consumer)) continue;
        const consumerInfo = view.fields.get(consumer);
        if (consumerInfo !== undefined && need(consumerInfo.dataset)) continue;
        if (consumerInfo === undefined || !view.bindings.has(consumerInfo.dataset)) queue.push(consumer);
      }
    }
  }
  return [...unread];
}
