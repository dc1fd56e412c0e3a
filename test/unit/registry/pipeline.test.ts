import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PipelineEdge } from '../../../lib/domain/registry/model.js';
import { buildPipelineGraph, renderDot, renderMermaid } from '../../../lib/domain/registry/pipeline.js';

const edge = (transform: string, role: 'producer' | 'consumer', dataset: string): PipelineEdge => ({
  namespace: 'default',
  name: transform,
  version: '0.1.0',
  digest: 'sha256:x',
  dataset: { namespace: 'default', name: dataset },
  role,
});

/** reactive-pipeline: raw-events → ingest → raw-events-parquet → enrich → enriched-events → aggregate → event-summary. */
const reactive = [
  edge('ingest', 'consumer', 'raw-events'),
  edge('ingest', 'producer', 'raw-events-parquet'),
  edge('enrich', 'consumer', 'raw-events-parquet'),
  edge('enrich', 'producer', 'enriched-events'),
  edge('aggregate', 'consumer', 'enriched-events'),
  edge('aggregate', 'producer', 'event-summary'),
  edge('audit', 'consumer', 'raw-events'),
  edge('audit', 'producer', 'audit-log'),
];

describe('buildPipelineGraph', () => {
  it('draws DataSet → Transform for inputs and Transform → DataSet for outputs', () => {
    const graph = buildPipelineGraph(reactive.slice(0, 2));

    expect(graph?.edges).toEqual([
      { from: 'dataset:default/raw-events', to: 'transform:default/ingest' },
      { from: 'transform:default/ingest', to: 'dataset:default/raw-events-parquet' },
    ]);
  });

  it('keeps a destination and everything upstream of it, nothing downstream or beside it', () => {
    const graph = buildPipelineGraph(reactive, { namespace: 'default', name: 'enriched-events' });

    expect(graph?.nodes.map((node) => node.id)).toEqual([
      'dataset:default/enriched-events',
      'dataset:default/raw-events',
      'dataset:default/raw-events-parquet',
      'transform:default/enrich',
      'transform:default/ingest',
    ]);
  });

  it('is undefined for a destination the graph does not hold', () => {
    expect(buildPipelineGraph(reactive, { namespace: 'default', name: 'nowhere' })).toBeUndefined();
  });

  it('only ever keeps nodes with a path to the destination (property)', () => {
    const names = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    const edges = fc.array(
      fc
        .tuple(names, fc.constantFrom('producer' as const, 'consumer' as const), names)
        .map(([t, role, d]) => edge(`t${t}`, role, d)),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(edges, names, (all, destination) => {
        const graph = buildPipelineGraph(all, { namespace: 'default', name: destination });
        if (graph === undefined) return;
        const reaches = (id: string, seen = new Set<string>()): boolean => {
          if (id === `dataset:default/${destination}`) return true;
          if (seen.has(id)) return false;
          seen.add(id);
          return graph.edges.filter((link) => link.from === id).some((link) => reaches(link.to, seen));
        };
        for (const node of graph.nodes) expect(reaches(node.id)).toBe(true);
        for (const link of graph.edges) {
          expect(graph.nodes.some((node) => node.id === link.from)).toBe(true);
          expect(graph.nodes.some((node) => node.id === link.to)).toBe(true);
        }
      }),
    );
  });
});

describe('renderers', () => {
  const graph = buildPipelineGraph(reactive.slice(0, 2));
  if (graph === undefined) throw new Error('no graph');

  it('renders Mermaid with DataSets as cylinders and versioned Transforms', () => {
    expect(renderMermaid(graph)).toBe(
      'graph LR\n  n0[("raw-events")]\n  n1[("raw-events-parquet")]\n  n2["ingest 0.1.0"]\n  n0 --> n2\n  n2 --> n1\n',
    );
  });

  it('renders Graphviz with quoted ids', () => {
    expect(renderDot(graph)).toContain('"dataset:default/raw-events" -> "transform:default/ingest";');
    expect(renderDot(graph)).toContain('shape=cylinder');
  });
});
