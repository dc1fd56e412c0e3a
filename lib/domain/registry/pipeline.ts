import type { PipelineGraph, PipelineNode } from '../../contracts/api/pipeline.js';
import type { PipelineEdge } from './model.js';

/** A DataSet the graph is asked about. */
export interface DataSetName {
  readonly namespace: string;
  readonly name: string;
}

const datasetId = (dataset: DataSetName) => `dataset:${dataset.namespace}/${dataset.name}`;
const transformId = (edge: PipelineEdge) => `transform:${edge.namespace}/${edge.name}`;

/**
 * The dependency graph across registered packages, as `dk pipeline show` draws it: DataSet → Transform
 * for every input, Transform → DataSet for every output. With a destination, only that DataSet and
 * everything upstream of it; undefined when the destination is not in the graph.
 */
export function buildPipelineGraph(
  edges: readonly PipelineEdge[],
  destination?: DataSetName,
): PipelineGraph | undefined {
  const nodes = new Map<string, PipelineNode>();
  const links = new Map<string, { from: string; to: string }>();
  for (const edge of edges) {
    const dataset = datasetId(edge.dataset);
    const transform = transformId(edge);
    nodes.set(dataset, { id: dataset, type: 'dataset', ...edge.dataset });
    nodes.set(transform, {
      id: transform,
      type: 'transform',
      namespace: edge.namespace,
      name: edge.name,
      version: edge.version,
    });
    const link =
      edge.role === 'consumer' ? { from: dataset, to: transform } : { from: transform, to: dataset };
    links.set(`${link.from} ${link.to}`, link);
  }

  let keep: ReadonlySet<string> = new Set(nodes.keys());
  if (destination !== undefined) {
    const start = datasetId(destination);
    if (!nodes.has(start)) return undefined;
    keep = upstreamOf(start, [...links.values()]);
  }
  return {
    nodes: [...nodes.values()].filter((node) => keep.has(node.id)).sort((a, b) => compare(a.id, b.id)),
    edges: [...links.values()]
      .filter((link) => keep.has(link.from) && keep.has(link.to))
      .sort((a, b) => compare(a.from, b.from) || compare(a.to, b.to)),
  };
}

/** `start` and every node with a path to it. */
function upstreamOf(start: string, links: readonly { from: string; to: string }[]): Set<string> {
  const into = new Map<string, string[]>();
  for (const link of links) into.set(link.to, [...(into.get(link.to) ?? []), link.from]);
  const seen = new Set([start]);
  const queue = [start];
  for (let node = queue.shift(); node !== undefined; node = queue.shift()) {
    for (const from of into.get(node) ?? []) {
      if (!seen.has(from)) {
        seen.add(from);
        queue.push(from);
      }
    }
  }
  return seen;
}

/** Mermaid flowchart: DataSets as cylinders, Transforms as boxes labelled with their version. */
export function renderMermaid(graph: PipelineGraph): string {
  const ids = mermaidIds(graph.nodes);
  const lines = ['graph LR'];
  for (const node of graph.nodes) {
    const label = escapeMermaid(labelOf(node));
    lines.push(
      node.type === 'dataset' ? `  ${ids.get(node.id)}[("${label}")]` : `  ${ids.get(node.id)}["${label}"]`,
    );
  }
  for (const edge of graph.edges) {
    const arrow = edge.trigger === undefined ? '-->' : `-- "${escapeMermaid(edge.trigger)}" -->`;
    lines.push(`  ${ids.get(edge.from)} ${arrow} ${ids.get(edge.to)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Graphviz: DataSets as cylinders, Transforms as boxes, left to right. */
export function renderDot(graph: PipelineGraph): string {
  const lines = ['digraph pipeline {', '  rankdir=LR;'];
  for (const node of graph.nodes) {
    const shape = node.type === 'dataset' ? 'cylinder' : 'box';
    lines.push(`  ${quoteDot(node.id)} [label=${quoteDot(labelOf(node))}, shape=${shape}];`);
  }
  for (const edge of graph.edges) {
    const label = edge.trigger === undefined ? '' : ` [label=${quoteDot(edge.trigger)}]`;
    lines.push(`  ${quoteDot(edge.from)} -> ${quoteDot(edge.to)}${label};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function labelOf(node: PipelineNode): string {
  const name = node.namespace === 'default' ? node.name : `${node.namespace}/${node.name}`;
  return node.version === undefined ? name : `${name} ${node.version}`;
}

/** Mermaid ids must be plain words: `n0`, `n1`, ... in node order. */
function mermaidIds(nodes: readonly PipelineNode[]): Map<string, string> {
  return new Map(nodes.map((node, index) => [node.id, `n${index}`]));
}

function escapeMermaid(text: string): string {
  return text.replace(/"/g, '#quot;');
}

function quoteDot(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
