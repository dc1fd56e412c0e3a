import { makePiiCheck, piiGate, promotionCandidateOf } from '../lib/domain/governance/pii-gate.js';
import { type Metric, median, percentile, registerBenchmark } from './benchmark.js';
import { seededGovernanceGraph } from './governance-graph.js';

// What the PII gate adds to each promotion into a governed environment: `makePiiCheck` — the version, the
// whole registry's catalog, the deployments of every environment and the lineage downstream of what PII
// reaches with the version in place — then the analysis, over the `governance-report` benchmark's registry.

const pipelines = Number.parseInt(process.env.BENCH_GOVERNANCE_PIPELINES ?? '', 10) || 100;
const versions = Number.parseInt(process.env.BENCH_GOVERNANCE_VERSIONS ?? '', 10) || 3;
const rounds = Number.parseInt(process.env.BENCH_PII_GATE_ROUNDS ?? '', 10) || 10;

registerBenchmark({
  name: 'pii-gate',
  description: `the PII gate of one governed promotion over ${pipelines} pipelines (7 packages × ${versions} versions, deployments, OpenLineage) on the embedded DynamoDB`,
  async run(): Promise<Metric[]> {
    const { table, registry, inputs, close } = await seededGovernanceGraph(pipelines, versions);
    try {
      const check = makePiiCheck({ packages: registry, inputs });
      // team-0's aggregate writes the PII of enriched into summary (internal): one violation through it.
      const target = { namespace: 'team-0', name: 'aggregate', version: `1.${versions}.0` };

      const checkMs: number[] = [];
      const analyseMs: number[] = [];
      const requests: number[] = [];
      const items: number[] = [];
      const capacity: number[] = [];
      let violations = 0;
      for (let round = 0; round < rounds + 1; round++) {
        const before = { ...table.stats };
        const started = performance.now();
        const result = await check(target);
        const checked = performance.now();
        if (round === 0) continue; // warm-up
        checkMs.push(checked - started);
        requests.push(table.stats.requests - before.requests);
        items.push(table.stats.itemsRead - before.itemsRead);
        capacity.push(table.stats.readCapacityUnits - before.readCapacityUnits);
        violations = result.violations.length;
      }
      // The pure part alone, on inputs read once.
      const version = await registry.getVersion(target.namespace, target.name, target.version);
      if (version === undefined) throw new Error('the benchmark version is not registered');
      const candidate = promotionCandidateOf(version);
      const read = await inputs({ candidate });
      for (let round = 0; round < rounds; round++) {
        const started = performance.now();
        piiGate(candidate, read);
        analyseMs.push(performance.now() - started);
      }
      const prefix = `pii-gate.${pipelines}x${versions}`;
      return [
        { name: `${prefix}.check.median`, value: median(checkMs), unit: 'ms' },
        { name: `${prefix}.check.p90`, value: percentile(checkMs, 90), unit: 'ms' },
        { name: `${prefix}.analyse.median`, value: median(analyseMs), unit: 'ms' },
        { name: `${prefix}.requests`, value: median(requests), unit: 'requests' },
        { name: `${prefix}.items-read`, value: median(items), unit: 'items' },
        { name: `${prefix}.read-capacity`, value: median(capacity), unit: 'RCU' },
        { name: `${prefix}.lineage-nodes`, value: read.lineageRead.nodesRead, unit: 'nodes' },
        { name: `${prefix}.violations`, value: violations, unit: 'violations' },
      ];
    } finally {
      await close();
    }
  },
});
