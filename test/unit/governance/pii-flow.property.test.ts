import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analysePii,
  type DataSetEdge,
  type GovernanceInputs,
} from '../../../lib/domain/governance/pii-flow.js';
import { graphArbitrary, id, oracle } from '../../support/pii-graph.js';

/*
 * The PII analysis on random graphs (test/support/pii-graph.ts), against an oracle written from the
 * definitions alone.
 */

const viaLabel = (via: DataSetEdge['via']) =>
  via.type === 'transform'
    ? `transform:${via.name}`
    : via.type === 'job'
      ? `job:${via.name}`
      : via.type === 'contract'
        ? 'contract'
        : 'column';

describe('PII analysis on random graphs', () => {
  it('finds exactly the flows and violations a fixed-point traversal finds', () => {
    fc.assert(
      fc.property(graphArbitrary, (graph) => {
        const inputs: GovernanceInputs = {
          dataSets: graph.dataSets,
          packages: [],
          lineage: { dataSetEdges: graph.lineageEdges, columnEdges: graph.columnEdges },
        };
        const analysis = analysePii(inputs);
        const expected = oracle(graph);

        // Violations: the same DataSets and columns, in the report's order.
        const under = analysis.violations.filter((v) => v.code === 'PII_UNDERCLASSIFIED');
        expect(under.map((v) => id(v.dataset))).toEqual(expected.underclassified);
        const unmarked = analysis.violations.filter((v) => v.code === 'PII_COLUMN_UNMARKED');
        expect(unmarked.map((v) => `${id(v.dataset)}.${v.column}`).sort()).toEqual(expected.unmarked);

        // Each path starts at a source, follows real edges, and is a shortest one.
        for (const violation of under) {
          const path = violation.path;
          expect(expected.sources).toContain(path[0]);
          expect(path.at(-1)).toBe(id(violation.dataset));
          for (let i = 1; i < path.length; i++) {
            expect(expected.real.some((e) => e.from === path[i - 1] && e.to === path[i])).toBe(true);
          }
          expect(path.length - 1).toBe(expected.dist.get(id(violation.dataset)));
        }
        for (const violation of unmarked) {
          const path = violation.path;
          expect(expected.marked).toContain(path[0]);
          expect(path.at(-1)).toBe(`${id(violation.dataset)}.${violation.column}`);
          for (let i = 1; i < path.length; i++) {
            expect(expected.columnPairs.some((c) => c.from === path[i - 1] && c.to === path[i])).toBe(true);
          }
          expect(path.length - 1).toBe(expected.colDist.get(path.at(-1) ?? ''));
        }

        // Flows: one per pair out of a tainted DataSet, with every way, the PII columns and the sources.
        const flows = new Map(
          analysis.flows.map((flow) => [
            `${id(flow.from)} -> ${id(flow.to)}`,
            {
              vias: new Set(flow.via.map(viaLabel)),
              columns: new Set(flow.columns.map((c) => `${c.from}>${c.to}`)),
              sources: flow.sources.map(id),
            },
          ]),
        );
        expect([...flows.keys()].sort()).toEqual([...expected.flows.keys()].sort());
        for (const [key, flow] of expected.flows) {
          expect(flows.get(key)?.vias).toEqual(flow.vias);
          expect(flows.get(key)?.columns).toEqual(flow.columns);
          expect(flows.get(key)?.sources).toEqual(flow.sources);
        }
      }),
      { numRuns: 400 },
    );
  });
});
