import { buildGovernanceReport } from '../lib/domain/governance/report.js';
import { renderCsv, renderMarkdown } from '../lib/domain/governance/report-render.js';
import { type Metric, median, registerBenchmark } from './benchmark.js';
import { seededGovernanceGraph } from './governance-graph.js';

// The registry of `seedGovernanceGraph` (bench/governance-graph.ts): `pipelines` copies of the reactive
// pipeline's shape with `versions` versions of every package, deployments and OpenLineage jobs.

const pipelines = Number.parseInt(process.env.BENCH_GOVERNANCE_PIPELINES ?? '', 10) || 100;
const versions = Number.parseInt(process.env.BENCH_GOVERNANCE_VERSIONS ?? '', 10) || 3;
const rounds = Number.parseInt(process.env.BENCH_GOVERNANCE_ROUNDS ?? '', 10) || 5;

registerBenchmark({
  name: 'governance-report',
  description: `the governance report over ${pipelines} pipelines (7 packages × ${versions} versions, deployments, OpenLineage) on the embedded DynamoDB`,
  async run(): Promise<Metric[]> {
    const { table, inputs, close } = await seededGovernanceGraph(pipelines, versions);
    try {
      const gatherMs: number[] = [];
      const buildMs: number[] = [];
      const requests: number[] = [];
      const items: number[] = [];
      let report: ReturnType<typeof buildGovernanceReport> | undefined;
      for (let round = 0; round < rounds + 1; round++) {
        const before = { ...table.stats };
        const started = performance.now();
        const read = await inputs();
        const gathered = performance.now();
        report = buildGovernanceReport(read, { pii: true }, new Date());
        const built = performance.now();
        if (round === 0) continue; // warm-up
        gatherMs.push(gathered - started);
        buildMs.push(built - gathered);
        requests.push(table.stats.requests - before.requests);
        items.push(table.stats.itemsRead - before.itemsRead);
      }
      if (report === undefined) throw new Error('no report');
      const prefix = `governance-report.${pipelines}x${versions}`;
      return [
        { name: `${prefix}.gather.median`, value: median(gatherMs), unit: 'ms' },
        { name: `${prefix}.analyse-and-build.median`, value: median(buildMs), unit: 'ms' },
        { name: `${prefix}.requests`, value: median(requests), unit: 'requests' },
        { name: `${prefix}.items-read`, value: median(items), unit: 'items' },
        { name: `${prefix}.lineage-nodes`, value: report.lineage.nodesRead, unit: 'nodes' },
        { name: `${prefix}.flows`, value: report.flows.length, unit: 'flows' },
        { name: `${prefix}.violations`, value: report.violations.length, unit: 'violations' },
        { name: `${prefix}.json`, value: Buffer.byteLength(JSON.stringify(report)), unit: 'bytes' },
        { name: `${prefix}.csv`, value: Buffer.byteLength(renderCsv(report)), unit: 'bytes' },
        { name: `${prefix}.markdown`, value: Buffer.byteLength(renderMarkdown(report)), unit: 'bytes' },
      ];
    } finally {
      await close();
    }
  },
});
