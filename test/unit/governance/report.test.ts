import { describe, expect, it } from 'vitest';
import {
  governanceReportQuerySchema,
  governanceReportSchema,
} from '../../../lib/contracts/api/governance.js';
import { checkDeprecations, sunsetPassed } from '../../../lib/domain/governance/deprecation.js';
import {
  type CatalogDataSet,
  type CatalogPackage,
  dataSetKeyOf,
} from '../../../lib/domain/governance/pii-flow.js';
import { piiGate, promotionCandidateOf } from '../../../lib/domain/governance/pii-gate.js';
import {
  buildGovernanceReport,
  packageKeyOf,
  type ReportInputs,
} from '../../../lib/domain/governance/report.js';
import { fitReport, renderCsv, renderMarkdown } from '../../../lib/domain/governance/report-render.js';

const now = new Date('2026-11-01T00:00:00.000Z');
const pkg = (name: string, version = '1.0.0') => ({ namespace: 'analytics', name, version });
const deprecation = {
  reason: 'use events-v2',
  sunset: '2027-01-31',
  deprecatedAt: '2026-10-01T00:00:00.000Z',
  deprecatedBy: 'arn:aws:iam::123456789012:user/alice',
};

/**
 * The reactive pipeline's shape: users (PII email, confidential) → enrich → enriched (PII, confidential,
 * its user_email from users.email) → aggregate → summary (internal: a violation), plus raw-events (no
 * PII) → ingest → staging, and a Spark job (OpenLineage) copying enriched into an unclassified export.
 */
function pipeline(): ReportInputs {
  const dataSets: CatalogDataSet[] = [
    {
      namespace: 'analytics',
      name: 'users',
      classification: 'confidential',
      schema: [
        { name: 'id', pii: false },
        { name: 'email', pii: true },
      ],
      declaredBy: pkg('users'),
      producers: [],
      consumers: [pkg('enrich', '0.1.0')],
    },
    {
      namespace: 'analytics',
      name: 'enriched',
      classification: 'confidential',
      schema: [
        { name: 'user_id', from: 'users.id' },
        { name: 'user_email', pii: true, from: 'users.email' },
        { name: 'contact', from: 'users.email' },
      ],
      declaredBy: pkg('enriched'),
      producers: [pkg('enrich', '0.1.0')],
      consumers: [pkg('aggregate', '0.2.0')],
    },
    {
      namespace: 'analytics',
      name: 'summary',
      classification: 'internal',
      schema: [{ name: 'total' }],
      declaredBy: pkg('summary'),
      producers: [pkg('aggregate', '0.2.0')],
      consumers: [],
      deprecation,
    },
    {
      namespace: 'analytics',
      name: 'raw-events',
      classification: 'internal',
      schema: [{ name: 'event_id' }],
      declaredBy: pkg('raw-events'),
      producers: [],
      consumers: [pkg('ingest', '0.1.0')],
    },
    {
      namespace: 'analytics',
      name: 'staging',
      classification: 'internal',
      declaredBy: pkg('staging'),
      producers: [pkg('ingest', '0.1.0')],
      consumers: [],
    },
    { namespace: 'exports', name: 'dump', producers: [], consumers: [] },
  ];
  const packages: CatalogPackage[] = [
    ...['users', 'enriched', 'summary', 'raw-events', 'staging'].map((name) => ({
      ...pkg(name),
      kind: 'DataSet',
      labels: {},
    })),
    { ...pkg('enrich', '0.1.0'), kind: 'Transform', labels: { team: 'identity' } },
    { ...pkg('aggregate', '0.2.0'), kind: 'Transform', labels: { team: 'bi' }, deprecation },
    { ...pkg('ingest', '0.1.0'), kind: 'Transform', labels: {} },
  ];
  const cells = (entries: [string, string[]][]) => new Map(entries.map(([k, v]) => [k, new Set(v)]));
  return {
    dataSets,
    packages,
    lineage: {
      dataSetEdges: [
        {
          from: { namespace: 'analytics', name: 'enriched' },
          to: { namespace: 'exports', name: 'dump' },
          via: { type: 'job', namespace: 'spark', name: 'export', cell: 'blue' },
        },
      ],
      columnEdges: [
        {
          from: { dataset: { namespace: 'analytics', name: 'enriched' }, column: 'user_email' },
          to: { dataset: { namespace: 'exports', name: 'dump' }, column: 'mail' },
          via: { type: 'column-lineage' },
        },
      ],
    },
    placements: {
      dataSets: cells([
        [dataSetKeyOf({ namespace: 'analytics', name: 'enriched' }), ['blue']],
        [dataSetKeyOf({ namespace: 'analytics', name: 'summary' }), ['green']],
      ]),
      packages: cells([
        [packageKeyOf(pkg('enrich')), ['blue']],
        [packageKeyOf(pkg('aggregate')), ['green']],
      ]),
    },
    lineageRead: { complete: true, nodesRead: 12 },
  };
}

const label = (d: { namespace: string; name: string }) => `${d.namespace}/${d.name}`;

describe('the governance report', () => {
  it('lists the packages handling PII with the classification of their DataSets', () => {
    const report = buildGovernanceReport(pipeline(), { pii: true }, now);
    expect(governanceReportSchema.parse(report)).toEqual(report);
    expect(report.packages.map(label)).toEqual([
      'analytics/aggregate',
      'analytics/enrich',
      'analytics/enriched',
      'analytics/summary',
      'analytics/users',
    ]);
    const enrich = report.packages.find((p) => p.name === 'enrich');
    expect(enrich).toMatchObject({ kind: 'Transform', handlesPii: true, cells: ['blue'] });
    expect(enrich?.dataSets).toEqual([
      {
        namespace: 'analytics',
        name: 'users',
        role: 'reads',
        classification: 'confidential',
        piiFields: ['email'],
        fedByPii: false,
      },
      {
        namespace: 'analytics',
        name: 'enriched',
        role: 'writes',
        classification: 'confidential',
        piiFields: ['user_email'],
        fedByPii: true,
      },
    ]);
    expect(report.summary).toEqual({ packages: 5, piiDataSets: 2, flows: 3, violations: 3, deprecations: 2 });
  });

  it('shows where PII flows: along Transforms, contracts and lineage, with the PII columns', () => {
    const { flows } = buildGovernanceReport(pipeline(), {}, now);
    expect(flows.map((f) => `${label(f.from)} → ${label(f.to)}`)).toEqual([
      'analytics/enriched → analytics/summary',
      'analytics/enriched → exports/dump',
      'analytics/users → analytics/enriched',
    ]);
    expect(flows[2]).toEqual({
      from: { namespace: 'analytics', name: 'users' },
      to: { namespace: 'analytics', name: 'enriched' },
      toClassification: 'confidential',
      sources: [{ namespace: 'analytics', name: 'users' }],
      via: [
        { type: 'contract' },
        { type: 'transform', namespace: 'analytics', name: 'enrich', version: '0.1.0' },
      ],
      columns: [
        { from: 'email', to: 'contact' },
        { from: 'email', to: 'user_email' },
      ],
    });
    expect(flows[1]?.via).toEqual([
      { type: 'column-lineage' },
      { type: 'job', namespace: 'spark', name: 'export', cell: 'blue' },
    ]);
  });

  it('reports every violation with the path from the nearest PII', () => {
    const { violations } = buildGovernanceReport(pipeline(), {}, now);
    // dump has no contract, so it has no column to mark: its classification is its violation.
    expect(violations.map((v) => [v.code, label(v.dataset), v.column, v.path])).toEqual([
      ['PII_UNDERCLASSIFIED', 'analytics/summary', undefined, ['analytics/enriched', 'analytics/summary']],
      ['PII_UNDERCLASSIFIED', 'exports/dump', undefined, ['analytics/enriched', 'exports/dump']],
      [
        'PII_COLUMN_UNMARKED',
        'analytics/enriched',
        'contact',
        ['analytics/users.email', 'analytics/enriched.contact'],
      ],
    ]);
    expect(violations[0]?.message).toBe(
      'DataSet analytics/summary is classified internal but receives PII from analytics/enriched (analytics/enriched → analytics/summary); classify it confidential or restricted',
    );
    expect(violations[1]?.message).toBe(
      'DataSet exports/dump has no classification but receives PII from analytics/enriched (analytics/enriched → exports/dump); classify it confidential or restricted',
    );
  });

  it('narrows every section by namespace, classification and cell', () => {
    const inNamespace = buildGovernanceReport(pipeline(), { namespace: 'exports' }, now);
    expect(inNamespace.packages).toEqual([]);
    expect(inNamespace.flows.map((f) => label(f.to))).toEqual(['exports/dump']);
    expect(inNamespace.violations.map((v) => label(v.dataset))).toEqual(['exports/dump']);

    const internal = buildGovernanceReport(pipeline(), { classification: 'internal' }, now);
    expect(internal.violations.map((v) => label(v.dataset))).toEqual(['analytics/summary']);
    expect(internal.packages.map(label)).toEqual([
      'analytics/aggregate',
      'analytics/ingest',
      'analytics/raw-events',
      'analytics/staging',
      'analytics/summary',
    ]);

    const unclassified = buildGovernanceReport(pipeline(), { classification: 'unclassified' }, now);
    expect(unclassified.violations.map((v) => label(v.dataset))).toEqual(['exports/dump']);

    const green = buildGovernanceReport(pipeline(), { cell: 'green' }, now);
    expect(green.packages.map(label)).toEqual(['analytics/aggregate']);
    expect(green.violations.map((v) => label(v.dataset))).toEqual(['analytics/summary']);
    expect(green.flows.map((f) => `${label(f.from)} → ${label(f.to)}`)).toEqual([
      'analytics/enriched → analytics/summary',
    ]);
  });

  it('with pii=false, lists the packages that handle no PII and no PII flows', () => {
    const report = buildGovernanceReport(pipeline(), { pii: false }, now);
    expect(report.packages.map(label)).toEqual([
      'analytics/ingest',
      'analytics/raw-events',
      'analytics/staging',
    ]);
    expect(report.flows).toEqual([]);
    expect(report.violations).toEqual([]);
    expect(report.summary.piiDataSets).toBe(0);
  });

  it('lists deprecated DataSets and packages with their consumers and whether the sunset passed', () => {
    const report = buildGovernanceReport(pipeline(), {}, new Date('2027-02-01T00:00:00Z'));
    expect(report.deprecations).toEqual([
      {
        subject: 'dataset',
        namespace: 'analytics',
        name: 'summary',
        ...deprecation,
        sunsetPassed: true,
        consumers: [],
      },
      {
        subject: 'package',
        namespace: 'analytics',
        name: 'aggregate',
        ...deprecation,
        sunsetPassed: true,
        consumers: [],
      },
    ]);
    const before = buildGovernanceReport(pipeline(), {}, now);
    expect(before.deprecations.every((d) => !d.sunsetPassed)).toBe(true);
  });

  it('says how much lineage it read', () => {
    expect(buildGovernanceReport(pipeline(), {}, now).lineage).toEqual({ complete: true, nodesRead: 12 });
  });
});

describe('rendering the report', () => {
  it('as CSV: one row per package DataSet, flow, violation and deprecation, fields quoted and formulas defused', () => {
    const inputs = pipeline();
    const hostile: ReportInputs = {
      ...inputs,
      dataSets: inputs.dataSets.map((d) =>
        d.name === 'summary'
          ? { ...d, deprecation: { ...deprecation, reason: '=HYPERLINK("x"), see "v2"' } }
          : d,
      ),
    };
    const csv = renderCsv(buildGovernanceReport(hostile, {}, now));
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'record,package,dataset,role,classification,pii_fields,fed_by_pii,from,to,via,columns,code,column,path,message',
    );
    expect(lines.filter((line) => line.startsWith('flow,'))).toHaveLength(3);
    expect(lines.filter((line) => line.startsWith('violation,'))).toHaveLength(3);
    expect(lines).toContain(
      'package,analytics/enrich@0.1.0,analytics/users,reads,confidential,email,false,,,,,,,,',
    );
    expect(lines).toContain(
      'violation,,analytics/enriched,,confidential,,,,,,,PII_COLUMN_UNMARKED,contact,analytics/users.email > analytics/enriched.contact,Column contact of analytics/enriched is computed from PII column analytics/users.email but is not marked pii: true',
    );
    const summaryRow = lines.find((line) => line.startsWith('package,analytics/summary@1.0.0'));
    expect(summaryRow).toContain(`"deprecated: =HYPERLINK(""x""), see ""v2"""`);
    const deprecationRow = lines.find((line) => line.startsWith('deprecation,,analytics/summary'));
    expect(deprecationRow).toContain(`"'=HYPERLINK(""x""), see ""v2"" (sunset 2027-01-31); consumers: none"`);
  });

  it('as Markdown: a summary and one table per section, pipes escaped', () => {
    const inputs = pipeline();
    const piped: ReportInputs = {
      ...inputs,
      packages: inputs.packages.map((p) =>
        p.name === 'aggregate' ? { ...p, deprecation: { ...deprecation, reason: 'a | b' } } : p,
      ),
    };
    const markdown = renderMarkdown(buildGovernanceReport(piped, { pii: true }, now));
    expect(markdown).toContain('# Governance report');
    expect(markdown).toContain('filter: pii=true');
    expect(markdown).toContain(
      '5 packages · 2 DataSets with PII fields · 3 PII flows · 3 violations · 2 deprecations',
    );
    expect(markdown).toContain('| From | To | To classification | Via | PII columns | Sources |');
    expect(markdown).toContain(
      '| analytics/users | analytics/enriched | confidential | contract (from); transform analytics/enrich 0.1.0 | email → contact, email → user_email | analytics/users |',
    );
    expect(markdown).toContain('| package | analytics/aggregate | a \\| b | 2027-01-31 | — |');
  });
});

describe('the size of an answer', () => {
  it('refuses a report larger than one answer may be, asking for filters', () => {
    expect(fitReport('é'.repeat(10), 20)).toBe('é'.repeat(10));
    expect(() => fitReport('é'.repeat(11), 20)).toThrow(
      expect.objectContaining({
        code: 'GOVERNANCE_REPORT_TOO_LARGE',
        message: expect.stringContaining('namespace='),
      }),
    );
  });
});

describe('the report query', () => {
  const parse = (query: Record<string, string>) => governanceReportQuerySchema.safeParse(query);

  it('reads the seed filter syntax and the parameters', () => {
    expect(parse({ filter: 'pii=true' }).data).toEqual({ filter: { pii: true }, format: 'json' });
    expect(parse({ filter: 'pii=false, namespace=sales', cell: 'blue', format: 'markdown' }).data).toEqual({
      filter: { pii: false, namespace: 'sales', cell: 'blue' },
      format: 'markdown',
    });
    expect(
      parse({ filter: 'classification=unclassified', classification: 'unclassified' }).data?.filter,
    ).toEqual({
      classification: 'unclassified',
    });
  });

  it.each([
    [{ filter: 'owner=bi' }, 'unknown filter "owner"; filters are pii, namespace, classification, cell'],
    [{ filter: 'pii' }, '"pii" is not key=value'],
    [{ filter: 'pii=yes' }, 'pii: Invalid option: expected one of "true"|"false"'],
    [{ filter: 'namespace=a', namespace: 'b' }, 'namespace is given twice with different values'],
  ])('refuses %j naming filter', (query, message) => {
    const result = parse(query);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => [issue.path, issue.message])).toEqual([[['filter'], message]]);
  });

  it('refuses an unknown format', () => {
    expect(parse({ format: 'xml' }).error?.issues[0]?.path).toEqual(['format']);
  });
});

describe('deprecations at deploy time', () => {
  const target = { namespace: 'analytics', name: 'aggregate' };
  const input = (alreadyRead: boolean, sunset = '2027-01-31') => ({
    namespace: 'analytics',
    name: 'enriched',
    deprecation: { ...deprecation, sunset },
    alreadyRead,
  });

  it('warns before the sunset', () => {
    const check = checkDeprecations({ target, alreadyDeployed: false, inputs: [input(false)], now });
    expect(check.refusals).toEqual([]);
    expect(check.warnings).toEqual([
      'DataSet analytics/enriched is deprecated: use events-v2; sunset 2027-01-31',
    ]);
  });

  it('refuses a new consumer after the sunset, and lets an existing one redeploy with a warning', () => {
    const after = new Date('2027-01-31T00:00:00Z');
    const refused = checkDeprecations({ target, alreadyDeployed: true, inputs: [input(false)], now: after });
    expect(refused.refusals).toEqual([
      {
        code: 'DEPLOY_DATASET_SUNSET',
        path: 'analytics/enriched',
        message:
          'DataSet analytics/enriched was deprecated (use events-v2) and its sunset 2027-01-31 has passed; no new consumer may read it',
      },
    ]);
    const existing = checkDeprecations({ target, alreadyDeployed: true, inputs: [input(true)], now: after });
    expect(existing.refusals).toEqual([]);
    expect(existing.warnings[0]).toContain(
      'has passed (allowed: this environment and cell already depend on it)',
    );
  });

  it('treats a deprecated package the same way: new deployments are refused after its sunset', () => {
    const after = new Date('2027-02-01T00:00:00Z');
    expect(
      checkDeprecations({
        target,
        packageDeprecation: deprecation,
        alreadyDeployed: false,
        inputs: [],
        now: after,
      }).refusals[0]?.code,
    ).toBe('DEPLOY_PACKAGE_SUNSET');
    expect(
      checkDeprecations({
        target,
        packageDeprecation: deprecation,
        alreadyDeployed: true,
        inputs: [],
        now: after,
      }).warnings,
    ).toHaveLength(1);
  });

  it('reads a sunset date as 00:00 UTC and a date-time with its offset', () => {
    expect(sunsetPassed('2027-01-31', new Date('2027-01-30T23:59:59Z'))).toBe(false);
    expect(sunsetPassed('2027-01-31', new Date('2027-01-31T00:00:00Z'))).toBe(true);
    expect(sunsetPassed('2027-01-31T02:00:00+02:00', new Date('2027-01-31T00:00:00Z'))).toBe(true);
  });
});

describe('the PII gate of a promotion (piiGate)', () => {
  const candidate = (
    name: string,
    inputs: string[],
    outputs: string[],
    extra: Partial<Parameters<typeof piiGate>[0]> = {},
  ): Parameters<typeof piiGate>[0] => ({
    namespace: 'analytics',
    name,
    version: '9.0.0',
    inputs: inputs.map((input) => ({ namespace: 'analytics', name: input })),
    outputs: outputs.map((output) => ({ namespace: 'analytics', name: output })),
    ...extra,
  });

  it('refuses a new Transform writing PII into an internal DataSet, with the path through it', () => {
    const check = piiGate(candidate('export', ['enriched'], ['staging']), pipeline());
    expect(check.violations).toEqual([
      {
        code: 'PII_UNDERCLASSIFIED',
        dataset: { namespace: 'analytics', name: 'staging' },
        classification: 'internal',
        path: ['analytics/enriched', 'analytics/staging'],
        message:
          'DataSet analytics/staging is classified internal but would receive PII from analytics/enriched through analytics/export 9.0.0 (analytics/enriched → analytics/staging); classify it confidential or restricted',
      },
    ]);
    expect(check.flows.map((f) => `${label(f.from)} → ${label(f.to)}`)).toEqual([
      'analytics/enriched → analytics/staging',
    ]);
  });

  it('refuses a version that keeps the flow its registered version already has (the graph holds it already)', () => {
    // aggregate 0.2.0 is the registered latest version and writes PII into summary: a new version doing
    // the same is no "new" violation, yet it is this package's flow, and it would reach prod.
    const check = piiGate(candidate('aggregate', ['enriched'], ['summary']), pipeline());
    expect(check.violations.map((v) => [label(v.dataset), v.path])).toEqual([
      ['analytics/summary', ['analytics/enriched', 'analytics/summary']],
    ]);
  });

  it('does not refuse a version for a violation PII reaches another way', () => {
    // summary receives PII through aggregate; a counter writing it from raw-events adds no PII to it.
    const check = piiGate(candidate('counter', ['raw-events'], ['summary']), pipeline());
    expect(check.violations).toEqual([]);
  });

  it('follows PII downstream of what the version writes, along Transforms and OpenLineage jobs', () => {
    // enrich writes enriched, which holds PII: what PII reaches from there is reached through enrich.
    const check = piiGate(candidate('enrich', ['users'], ['enriched']), pipeline());
    expect(check.violations.map((v) => [label(v.dataset), v.path])).toEqual([
      ['analytics/summary', ['analytics/enriched', 'analytics/summary']],
      ['exports/dump', ['analytics/enriched', 'exports/dump']],
    ]);
    expect(check.columnViolations.map((v) => [label(v.dataset), v.column])).toEqual([
      ['analytics/enriched', 'contact'],
    ]);
  });

  it('does not refuse a DataSet package for marking PII that others copy', () => {
    const users = pipeline().dataSets[0];
    const check = piiGate(
      candidate('users', [], [], users === undefined ? {} : { dataSets: [users] }),
      pipeline(),
    );
    expect(check.violations).toEqual([]);
  });

  it("replaces the package's current version: a version that stops reading PII clears its violations", () => {
    expect(piiGate(candidate('aggregate', ['raw-events'], ['summary']), pipeline()).violations).toEqual([]);
  });

  it("checks the contracts the version carries instead of the registry's", () => {
    const check = piiGate(
      candidate('aggregate', ['enriched'], ['summary'], {
        dataSets: [
          {
            namespace: 'analytics',
            name: 'summary',
            classification: 'restricted',
            schema: [{ name: 'total' }],
          },
        ],
      }),
      pipeline(),
    );
    expect(check.violations).toEqual([]);
  });

  it('counts a `from` column of a contract the version carries as its own flow', () => {
    // A DataSet package declaring a public contract whose column comes from users.email.
    const check = piiGate(
      candidate('mailing', [], [], {
        dataSets: [
          {
            namespace: 'analytics',
            name: 'mailing',
            classification: 'public',
            schema: [{ name: 'to', from: 'users.email' }],
          },
        ],
      }),
      pipeline(),
    );
    expect(check.violations.map((v) => [label(v.dataset), v.path])).toEqual([
      ['analytics/mailing', ['analytics/users', 'analytics/mailing']],
    ]);
  });

  it('says when the lineage it checked was cut at the node budget', () => {
    const inputs = { ...pipeline(), lineageRead: { complete: false, nodesRead: 10_000 } };
    expect(piiGate(candidate('counter', ['raw-events'], ['summary']), inputs).lineageComplete).toBe(false);
  });

  it('reads a registered version as a candidate, with the contracts it carries', () => {
    const read = promotionCandidateOf({
      namespace: 'analytics',
      name: 'aggregate',
      version: '0.3.0',
      kind: 'Transform',
      digest: 'sha256:1',
      repository: 'r/analytics/aggregate',
      registeredAt: '2026-11-01T00:00:00.000Z',
      labels: {},
      manifest: {},
      datasets: [
        {
          apiVersion: 'datakit.infoblox.dev/v1alpha1',
          kind: 'DataSet',
          metadata: { name: 'summary', version: '2.0.0' },
          spec: {
            store: 'lake',
            prefix: 'summary/',
            classification: 'restricted',
            schema: [{ name: 'total', type: 'int' }],
          },
        },
      ],
      connectors: [],
      datasetGroups: [],
      inputs: [{ namespace: 'analytics', name: 'enriched' }],
      outputs: [{ namespace: 'analytics', name: 'summary' }],
      lint: { errors: [], warnings: [] },
      buildInfo: {},
      annotations: {},
    });
    expect(read.dataSets).toEqual([
      {
        namespace: 'analytics',
        name: 'summary',
        classification: 'restricted',
        schema: [{ name: 'total', type: 'int' }],
      },
    ]);
    expect(piiGate(read, pipeline()).violations).toEqual([]);
  });
});
