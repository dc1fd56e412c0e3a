import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { routeList } from '../../../lib/api/routes.js';
import { violationCodes } from '../../../lib/contracts/api/governance.js';
import { manifestCodes } from '../../../lib/contracts/manifests/codes.js';
import { openLineageCodes } from '../../../lib/contracts/openlineage/codes.js';
import { registryCodes } from '../../../lib/domain/registry/codes.js';

const apiDoc = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
const registrySection = apiDoc.slice(apiDoc.indexOf('## Registry'), apiDoc.indexOf('## Lineage'));
const errorsSection = apiDoc.slice(apiDoc.indexOf('## Errors'), apiDoc.indexOf('## System'));

describe('docs/api.md, Errors', () => {
  it.each([
    'RESERVED_NAME',
    'INVALID_CURSOR',
    'MALFORMED_REQUEST',
    'REQUEST_TIMEOUT',
    'EXPECTATION_FAILED',
    'HEADERS_TOO_LARGE',
  ])('documents the HTTP edge code %s', (code) => {
    expect(errorsSection).toContain(`\`${code}\``);
  });
});

describe('docs/api.md, Registry', () => {
  it.each([...Object.keys(manifestCodes), ...Object.keys(registryCodes)])('documents %s', (code) => {
    expect(registrySection).toContain(`\`${code}\``);
  });

  it.each(['REGISTRY_NOT_ALLOWED', 'PACKAGE_NOT_FOUND', 'VERSION_NOT_FOUND', 'DATASET_NOT_FOUND'])(
    'documents the API code %s',
    (code) => {
      expect(registrySection).toContain(`\`${code}\``);
    },
  );
});

describe('docs/api.md, Lineage', () => {
  const lineageSection = apiDoc.slice(
    apiDoc.indexOf('## Lineage'),
    apiDoc.indexOf('## Cells, runs and deployments'),
  );

  it.each([
    ...Object.keys(openLineageCodes),
    'MALFORMED_BODY',
    'LINEAGE_RECORD_TOO_LARGE',
    'NAMESPACE_NOT_FOUND',
    'JOB_NOT_FOUND',
    'RUN_NOT_FOUND',
    'DATASET_NOT_FOUND',
    'DATASET_VERSION_NOT_FOUND',
    'DATASET_FIELD_NOT_FOUND',
    'LINEAGE_NODE_NOT_FOUND',
    'LINEAGE_NODE_ID_INVALID',
    'LINEAGE_GRAPH_TOO_LARGE',
  ])('documents %s', (code) => {
    expect(lineageSection).toContain(`\`${code}\``);
  });

  it.each(
    routeList
      .filter((route) => route.function === 'lineage-api' || route.function === 'lineage-ingest')
      .map((route) => [route.method, route.path] as const),
  )('documents %s %s', (method, path) => {
    // A route is documented by its path (parameters spelled as the route table spells them, or listed).
    const documented = path.replace(/\{subject\}/, 'lineage-events');
    expect(lineageSection.includes(documented) || lineageSection.includes(path), `${method} ${path}`).toBe(
      true,
    );
  });
});

describe('docs/api.md, Governance', () => {
  const governanceSection = apiDoc.slice(apiDoc.indexOf('## Governance'));

  it.each([
    ...violationCodes,
    'DATASET_NOT_FOUND',
    'PACKAGE_NOT_FOUND',
    'VALIDATION_FAILED',
    'CONCURRENT_MODIFICATION',
    'EVENTS_UNAVAILABLE',
    'DEPLOY_DATASET_SUNSET',
    'DEPLOY_PACKAGE_SUNSET',
    'GOVERNANCE_REPORT_TOO_LARGE',
  ])('documents %s', (code) => {
    expect(governanceSection).toContain(`\`${code}\``);
  });

  it.each(['filter', 'namespace', 'classification', 'cell', 'format'])(
    'documents the report parameter %s',
    (name) => {
      expect(governanceSection).toContain(`${name}=`);
    },
  );

  it('documents the PII gate of governed environments with the promotion codes and fields', () => {
    const promotions = apiDoc.slice(
      apiDoc.indexOf('### Promotions and deployments'),
      apiDoc.indexOf('### Runs'),
    );
    for (const text of [
      '`GOVERNANCE_PII_FLOW`',
      '`GOVERNANCE_CHECK_UNAVAILABLE`',
      '`GOVERNANCE_PII_FLOW_OVERRIDDEN',
      '`GOVERNANCE_OVERRIDE_UNUSED`',
      '`GOVERNANCE_LINEAGE_INCOMPLETE`',
      'governanceOverride',
      '`promotion.governance-override`',
    ])
      expect(promotions).toContain(text);
  });

  it('documents the deploy refusals with the promotion codes too', () => {
    const promotions = apiDoc.slice(
      apiDoc.indexOf('### Promotions and deployments'),
      apiDoc.indexOf('### Runs'),
    );
    for (const code of ['DEPLOY_DATASET_SUNSET', 'DEPLOY_PACKAGE_SUNSET'])
      expect(promotions).toContain(`\`${code}\``);
  });
});
