import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CatalogDataSet } from '../../../lib/domain/governance/pii-flow.js';
import { type PromotionCandidate, piiGate } from '../../../lib/domain/governance/pii-gate.js';
import { classifications, type GeneratedGraph, graphArbitrary, id, oracle } from '../../support/pii-graph.js';

/*
 * The PII gate on random graphs and random candidates, against the definition: a DataSet is reached through
 * the candidate when some path from PII to it uses one of the candidate's edges (its Transform's inputs →
 * outputs, a `from` column of a contract it carries) or starts at a PII DataSet it writes. The oracle builds
 * the graph with the candidate in place itself, then composes two reachabilities — PII reaches the tail of a
 * candidate edge, the DataSet is reachable from its head — instead of walking pairs of (DataSet, flag).
 */

interface Case {
  readonly graph: GeneratedGraph;
  readonly candidate: PromotionCandidate;
}

const caseArbitrary: fc.Arbitrary<Case> = graphArbitrary.chain((graph) => {
  const count = graph.dataSets.length;
  const index = fc.integer({ min: 0, max: count - 1 });
  const ref = (i: number) => {
    const dataSet = graph.dataSets[i] ?? graph.dataSets[0];
    return { namespace: dataSet?.namespace ?? 'sales', name: dataSet?.name ?? 'd0' };
  };
  return fc
    .record({
      // t0…t3 may be a registered Transform of the graph (the candidate replaces it) or a new one.
      name: fc.constantFrom('t0', 't1', 't2', 't3', 't9'),
      inputs: fc.uniqueArray(index, { maxLength: 3 }),
      outputs: fc.uniqueArray(index, { maxLength: 3 }),
      carried: fc.option(
        fc.record({
          at: index,
          classification: fc.constantFrom(...classifications),
          from: fc.option(index, { nil: undefined }),
        }),
        { nil: undefined },
      ),
    })
    .map(({ name, inputs, outputs, carried }): Case => {
      const dataSets =
        carried === undefined
          ? []
          : [
              {
                ...ref(carried.at),
                ...(carried.classification === undefined ? {} : { classification: carried.classification }),
                schema: [
                  carried.from === undefined
                    ? { name: 'a' }
                    : { name: 'a', from: `${ref(carried.from).namespace}/${ref(carried.from).name}.a` },
                ],
              },
            ];
      return {
        graph,
        candidate: {
          namespace: 'sales',
          name,
          version: '2.0.0',
          inputs: inputs.map(ref),
          outputs: outputs.map(ref),
          dataSets,
        },
      };
    });
});

/** The graph with the candidate in place, built here: its package's edges replaced, its contracts in. */
function withCandidateHere(graph: GeneratedGraph, candidate: PromotionCandidate): GeneratedGraph {
  const reads = new Set(candidate.inputs.map(id));
  const writes = new Set(candidate.outputs.map(id));
  const carried = new Map((candidate.dataSets ?? []).map((d) => [id(d), d]));
  const pkg = { namespace: candidate.namespace, name: candidate.name, version: candidate.version };
  const dataSets = graph.dataSets.map((d): CatalogDataSet => {
    const contract = carried.get(id(d));
    const { classification: _c, schema: _s, ...rest } = d;
    const described =
      contract === undefined
        ? d
        : {
            ...rest,
            ...(contract.classification === undefined ? {} : { classification: contract.classification }),
            ...(contract.schema === undefined ? {} : { schema: contract.schema }),
          };
    return {
      ...described,
      consumers: [
        ...d.consumers.filter((c) => c.name !== candidate.name),
        ...(reads.has(id(d)) ? [pkg] : []),
      ],
      producers: [
        ...d.producers.filter((p) => p.name !== candidate.name),
        ...(writes.has(id(d)) ? [pkg] : []),
      ],
    };
  });
  return { ...graph, dataSets };
}

function expected({ graph, candidate }: Case) {
  const placed = withCandidateHere(graph, candidate);
  const o = oracle(placed);
  const carried = new Set((candidate.dataSets ?? []).map(id));
  const writes = new Set(candidate.outputs.map(id));
  const mine = (e: { to: string; via: string }) =>
    e.via === `transform:${candidate.name}` || (e.via === 'contract' && carried.has(e.to));
  const reach = (starts: Iterable<string>) => {
    const set = new Set(starts);
    for (let changed = true; changed; ) {
      changed = false;
      for (const e of o.real)
        if (set.has(e.from) && !set.has(e.to)) {
          set.add(e.to);
          changed = true;
        }
    }
    return set;
  };
  const heads = [
    ...o.real.filter((e) => mine(e) && o.tainted.has(e.from)).map((e) => e.to),
    ...o.sources.filter((s) => writes.has(s)),
  ];
  const through = reach(heads);
  // Shortest path lengths over (DataSet, through yet?) by relaxing every edge until nothing changes.
  const dist = new Map<string, number>(o.sources.map((s) => [`${writes.has(s) ? 1 : 0}${s}`, 0]));
  for (let changed = true; changed; ) {
    changed = false;
    for (const e of o.real) {
      for (const flag of [0, 1]) {
        const d = dist.get(`${flag}${e.from}`);
        if (d === undefined) continue;
        const next = `${flag === 1 || mine(e) ? 1 : 0}${e.to}`;
        if ((dist.get(next) ?? Number.POSITIVE_INFINITY) > d + 1) {
          dist.set(next, d + 1);
          changed = true;
        }
      }
    }
  }
  const refused = o.underclassified.filter((d) => through.has(d)).sort();
  const columns = o.unmarked.filter((c) => [...through].some((d) => c.startsWith(`${d}.`))).sort();
  return { o, refused, columns, through, dist, mine, writes };
}

describe('the PII gate on random graphs', () => {
  it('refuses exactly the under-classified DataSets PII reaches through the candidate, by a shortest such path', () => {
    fc.assert(
      fc.property(caseArbitrary, (c) => {
        const check = piiGate(c.candidate, {
          dataSets: c.graph.dataSets,
          packages: [],
          lineage: { dataSetEdges: c.graph.lineageEdges, columnEdges: c.graph.columnEdges },
        });
        const want = expected(c);
        expect(check.violations.map((v) => id(v.dataset))).toEqual(want.refused);
        expect(check.columnViolations.map((v) => `${id(v.dataset)}.${v.column}`).sort()).toEqual(
          want.columns,
        );
        for (const violation of check.violations) {
          const path = violation.path;
          expect(want.o.sources).toContain(path[0]);
          expect(path.at(-1)).toBe(id(violation.dataset));
          let through = want.writes.has(path[0] ?? '');
          for (let i = 1; i < path.length; i++) {
            const step = want.o.real.filter((e) => e.from === path[i - 1] && e.to === path[i]);
            expect(step.length).toBeGreaterThan(0);
            through ||= step.some(want.mine);
          }
          expect(through).toBe(true);
          expect(path.length - 1).toBe(want.dist.get(`1${id(violation.dataset)}`));
        }
      }),
      { numRuns: 500 },
    );
  });
});
