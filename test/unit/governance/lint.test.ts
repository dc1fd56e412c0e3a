import { describe, expect, it } from 'vitest';
import type {
  ConnectorManifest,
  DataSetField,
  DataSetManifest,
  TransformManifest,
} from '../../../lib/contracts/manifests/index.js';
import { lintManifest } from '../../../lib/domain/governance/index.js';

const API_VERSION = 'datakit.infoblox.dev/v1alpha1';

function dataSet(spec: Partial<DataSetManifest['spec']>): DataSetManifest {
  return {
    apiVersion: API_VERSION,
    kind: 'DataSet',
    metadata: { name: 'customers' },
    spec: { store: 'warehouse', table: 'crm.customers', ...spec },
  };
}

function transform(spec: Partial<TransformManifest['spec']>): TransformManifest {
  return {
    apiVersion: API_VERSION,
    kind: 'Transform',
    metadata: { name: 'nightly-export' },
    spec: { runtime: 'cloudquery', inputs: [{ dataset: 'a' }], outputs: [{ dataset: 'b' }], ...spec },
  };
}

const EMAIL: DataSetField = { name: 'email', type: 'string', pii: true };
const ID: DataSetField = { name: 'id', type: 'string' };

describe('lintManifest: PII needs a strong classification (G001)', () => {
  it('refuses a DataSet with a PII field classified internal, naming the field', () => {
    const { errors } = lintManifest(dataSet({ classification: 'internal', schema: [ID, EMAIL] }));

    expect(errors).toEqual([
      { code: 'G001', path: 'spec.classification', message: expect.stringContaining('email') },
    ]);
  });

  it('refuses a DataSet with a PII field and no classification, without a second E004 warning', () => {
    const result = lintManifest(dataSet({ schema: [EMAIL] }));

    expect(result).toEqual({ errors: [expect.objectContaining({ code: 'G001' })], warnings: [] });
  });

  it.each(['confidential', 'restricted'] as const)(
    'accepts a DataSet with PII classified %s',
    (classification) => {
      expect(lintManifest(dataSet({ classification, schema: [EMAIL] }))).toEqual({
        errors: [],
        warnings: [],
      });
    },
  );

  it('does not count fields marked pii: false', () => {
    const { errors } = lintManifest(dataSet({ classification: 'public', schema: [{ ...ID, pii: false }] }));

    expect(errors).toEqual([]);
  });
});

describe('lintManifest: classification present (E004)', () => {
  it('warns, without refusing, when a DataSet has no classification', () => {
    const result = lintManifest(dataSet({ schema: [ID] }));

    expect(result).toEqual({
      errors: [],
      warnings: [
        { code: 'E004', path: 'spec.classification', message: expect.stringContaining('customers') },
      ],
    });
  });

  it('stays quiet when a classification is set', () => {
    expect(lintManifest(dataSet({ classification: 'internal' })).warnings).toEqual([]);
  });
});

describe('lintManifest: schema sources (E310)', () => {
  it('refuses a DataSet with both an inline schema and a schemaRef', () => {
    const { errors } = lintManifest(
      dataSet({ classification: 'internal', schema: [ID], schemaRef: 'customers@^1' }),
    );

    expect(errors).toEqual([expect.objectContaining({ code: 'E310', path: 'spec.schemaRef' })]);
  });

  it('accepts a schemaRef alone', () => {
    expect(lintManifest(dataSet({ classification: 'internal', schemaRef: 'customers@^1' })).errors).toEqual(
      [],
    );
  });
});

describe('lintManifest: batch Transforms should have a trigger (W209)', () => {
  it('warns about a batch Transform without a trigger', () => {
    const result = lintManifest(transform({ mode: 'batch' }));

    expect(result).toEqual({
      errors: [],
      warnings: [expect.objectContaining({ code: 'W209', path: 'spec.trigger' })],
    });
  });

  it('treats a Transform without a mode as batch', () => {
    expect(lintManifest(transform({})).warnings.map((warning) => warning.code)).toEqual(['W209']);
  });

  it('stays quiet for a batch Transform with a trigger', () => {
    expect(lintManifest(transform({ trigger: { policy: 'manual' } })).warnings).toEqual([]);
  });

  it('stays quiet for a streaming Transform without a trigger', () => {
    expect(lintManifest(transform({ mode: 'streaming' })).warnings).toEqual([]);
  });
});

describe('lintManifest on kinds without lint rules', () => {
  it('finds nothing to report on a Connector', () => {
    const connector: ConnectorManifest = {
      apiVersion: API_VERSION,
      kind: 'Connector',
      metadata: { name: 'kafka' },
      spec: { type: 'kafka', capabilities: ['source'] },
    };

    expect(lintManifest(connector)).toEqual({ errors: [], warnings: [] });
  });
});
