import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manifestCodes } from '../../../lib/contracts/manifests/codes.js';
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
