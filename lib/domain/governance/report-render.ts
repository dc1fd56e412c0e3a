import type { FlowVia, GovernanceReport } from '../../contracts/api/governance.js';
import { UnprocessableError } from '../errors.js';

/**
 * The largest report answered (rendered, UTF-8): a Lambda response is at most 6 MB, and API Gateway's proxy
 * result carries the body escaped inside JSON, so 5 MiB leaves room for both.
 */
export const maxReportBytes = 5 * 1024 * 1024;

/** The rendered report, or GOVERNANCE_REPORT_TOO_LARGE (422) asking for filters when it would not fit. */
export function fitReport(rendered: string, limit = maxReportBytes): string {
  const bytes = Buffer.byteLength(rendered, 'utf8');
  if (bytes > limit) {
    throw new UnprocessableError(
      'GOVERNANCE_REPORT_TOO_LARGE',
      `The report takes ${bytes} bytes, more than the ${limit} one answer may; narrow it with namespace=, cell=, classification= or pii=.`,
    );
  }
  return rendered;
}

const ref = (dataSet: { readonly namespace: string; readonly name: string }) =>
  `${dataSet.namespace}/${dataSet.name}`;

/** A flow's way as one short phrase: `transform sales/enrich 1.2.0`, `job spark/etl (blue)`, `contract`. */
export function describeVia(via: FlowVia): string {
  switch (via.type) {
    case 'transform':
      return `transform ${via.namespace}/${via.name} ${via.version}`;
    case 'job':
      return `job ${via.namespace}/${via.name}${via.cell === undefined ? '' : ` (${via.cell})`}`;
    case 'contract':
      return 'contract (from)';
    case 'column-lineage':
      return 'column lineage';
  }
}

/** The columns of the CSV rendering, one row per package DataSet, flow, violation and deprecation. */
export const csvColumns = [
  'record',
  'package',
  'dataset',
  'role',
  'classification',
  'pii_fields',
  'fed_by_pii',
  'from',
  'to',
  'via',
  'columns',
  'code',
  'column',
  'path',
  'message',
] as const;

type CsvRow = Partial<Record<(typeof csvColumns)[number], string>>;

/**
 * RFC 4180 field: quoted when it holds a comma, quote or line break; a field a spreadsheet would run as a
 * formula (`=`, `+`, `-`, `@`, tab, carriage return first) gets a leading `'`, as OWASP advises for CSV.
 */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/u.test(value) ? `'${value}` : value;
  return /[",\r\n]/u.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The report as CSV (`text/csv`): a header, then packages, flows, violations and deprecations. */
export function renderCsv(report: GovernanceReport): string {
  const rows: CsvRow[] = [];
  for (const pkg of report.packages) {
    for (const dataSet of pkg.dataSets) {
      rows.push({
        record: 'package',
        package: `${ref(pkg)}@${pkg.version}`,
        dataset: ref(dataSet),
        role: dataSet.role,
        classification: dataSet.classification ?? '',
        pii_fields: dataSet.piiFields.join(' '),
        fed_by_pii: String(dataSet.fedByPii),
        message: dataSet.deprecation === undefined ? '' : `deprecated: ${dataSet.deprecation.reason}`,
      });
    }
  }
  for (const flow of report.flows) {
    rows.push({
      record: 'flow',
      from: ref(flow.from),
      to: ref(flow.to),
      classification: flow.toClassification ?? '',
      via: flow.via.map(describeVia).join('; '),
      columns: flow.columns.map((column) => `${column.from}>${column.to}`).join(' '),
    });
  }
  for (const violation of report.violations) {
    rows.push({
      record: 'violation',
      code: violation.code,
      dataset: ref(violation.dataset),
      classification: violation.classification ?? '',
      column: violation.column ?? '',
      path: violation.path.join(' > '),
      message: violation.message,
    });
  }
  for (const deprecation of report.deprecations) {
    rows.push({
      record: 'deprecation',
      [deprecation.subject === 'dataset' ? 'dataset' : 'package']: ref(deprecation),
      message: `${deprecation.reason} (sunset ${deprecation.sunset}${deprecation.sunsetPassed ? ', passed' : ''}); consumers: ${
        deprecation.consumers.map(ref).join(' ') || 'none'
      }`,
    });
  }
  const lines = [
    csvColumns.join(','),
    ...rows.map((row) => csvColumns.map((column) => csvField(row[column] ?? '')).join(',')),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** A Markdown table cell: pipes escaped, line breaks flattened. */
function cell(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  if (rows.length === 0) return ['_None._'];
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
}

/** The report as Markdown (`text/markdown`): a summary, then one table per section. */
export function renderMarkdown(report: GovernanceReport): string {
  const filter = Object.entries(report.filter)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(', ');
  const { summary } = report;
  const lines = [
    '# Governance report',
    '',
    `Generated ${report.generatedAt}${filter === '' ? '' : ` · filter: ${filter}`} · lineage: ${
      report.lineage.complete ? 'complete' : 'incomplete (node budget reached)'
    }, ${report.lineage.nodesRead} nodes read`,
    '',
    `${summary.packages} packages · ${summary.piiDataSets} DataSets with PII fields · ${summary.flows} PII flows · ${summary.violations} violations · ${summary.deprecations} deprecations`,
    '',
    '## Packages',
    '',
    ...table(
      ['Package', 'Kind', 'DataSet', 'Role', 'Classification', 'PII fields', 'Fed by PII'],
      report.packages.flatMap((pkg) =>
        pkg.dataSets.map((dataSet) => [
          `${ref(pkg)} ${pkg.version}${pkg.deprecation === undefined ? '' : ' (deprecated)'}`,
          pkg.kind,
          `${ref(dataSet)}${dataSet.deprecation === undefined ? '' : ' (deprecated)'}`,
          dataSet.role,
          dataSet.classification ?? '—',
          dataSet.piiFields.join(', ') || '—',
          dataSet.fedByPii ? 'yes' : 'no',
        ]),
      ),
    ),
    '',
    '## PII flows',
    '',
    ...table(
      ['From', 'To', 'To classification', 'Via', 'PII columns', 'Sources'],
      report.flows.map((flow) => [
        ref(flow.from),
        ref(flow.to),
        flow.toClassification ?? '—',
        flow.via.map(describeVia).join('; '),
        flow.columns.map((column) => `${column.from} → ${column.to}`).join(', ') || '—',
        flow.sources.map(ref).join(', '),
      ]),
    ),
    '',
    '## Violations',
    '',
    ...table(
      ['Code', 'DataSet', 'Classification', 'Column', 'Path', 'Message'],
      report.violations.map((violation) => [
        violation.code,
        ref(violation.dataset),
        violation.classification ?? '—',
        violation.column ?? '—',
        violation.path.join(' → '),
        violation.message,
      ]),
    ),
    '',
    '## Deprecations',
    '',
    ...table(
      ['Subject', 'Name', 'Reason', 'Sunset', 'Consumers'],
      report.deprecations.map((deprecation) => [
        deprecation.subject,
        ref(deprecation),
        deprecation.reason,
        `${deprecation.sunset}${deprecation.sunsetPassed ? ' (passed)' : ''}`,
        deprecation.consumers.map(ref).join(', ') || '—',
      ]),
    ),
    '',
  ];
  return lines.join('\n');
}
