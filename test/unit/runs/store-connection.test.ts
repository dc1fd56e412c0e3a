import { describe, expect, it } from 'vitest';
import type { StoreManifest } from '../../../lib/contracts/manifests/store.js';
import {
  buildDsn,
  dsnVariable,
  secretNamesOf,
  typeVariable,
} from '../../../lib/domain/runs/store-connection.js';

const store = (
  connector: string,
  connection: Record<string, unknown>,
  secrets?: Record<string, string>,
): StoreManifest => ({
  apiVersion: 'datakit.infoblox.dev/v1alpha1',
  kind: 'Store',
  metadata: { name: 'pg-warehouse' },
  spec: { connector, connection, ...(secrets === undefined ? {} : { secrets }) },
});

describe('store variables (RUNTIME.md)', () => {
  it('upper-cases the store name and turns - and . into _', () => {
    expect(dsnVariable('pg-warehouse')).toBe('DK_STORE_DSN_PG_WAREHOUSE');
    expect(typeVariable('lake.raw-v2')).toBe('DK_STORE_TYPE_LAKE_RAW_V2');
  });

  it(`lists every \${VAR} a store references, in connection and secrets, once`, () => {
    const manifest = store(
      'postgres',
      { host: `\${PG_HOST}`, user: 'app' },
      { password: `\${PG_PASSWORD}`, extra: `x\${PG_HOST}y` },
    );
    expect(secretNamesOf(manifest)).toEqual(['PG_HOST', 'PG_PASSWORD']);
  });
});

describe('DSNs per connector (RUNTIME.md)', () => {
  it('builds postgres with the seed defaults', () => {
    expect(buildDsn(store('postgres', { dbname: 'warehouse' }), new Map()).dsn).toBe(
      'postgresql://:@localhost:5432/warehouse?sslmode=disable',
    );
  });

  it('takes the password from secrets first, accepts database/username aliases, and escapes userinfo', () => {
    const manifest = store(
      'postgresql',
      {
        host: 'db.internal',
        port: 6432,
        database: 'dw',
        username: 'etl user',
        password: 'ignored',
        sslmode: 'require',
      },
      { password: `\${PG_PASSWORD}` },
    );
    const dsn = buildDsn(manifest, new Map([['PG_PASSWORD', 'p@ss:w/rd']]));
    expect(dsn).toEqual({
      dsn: 'postgresql://etl%20user:p%40ss%3Aw%2Frd@db.internal:6432/dw?sslmode=require',
      connector: 'postgresql',
      containsSecret: true,
    });
  });

  it('uses connection_string as is after interpolation', () => {
    const manifest = store('postgres', { connection_string: `postgres://u:\${PW}@h/db` });
    expect(buildDsn(manifest, new Map([['PW', 'secret']])).dsn).toBe('postgres://u:secret@h/db');
  });

  it('builds s3 with region and endpoint as query parameters', () => {
    expect(
      buildDsn(store('s3', { bucket: 'lake', region: 'eu-west-1', endpoint: 'http://minio:9000' }), new Map())
        .dsn,
    ).toBe('s3://lake?region=eu-west-1&endpoint=http%3A%2F%2Fminio%3A9000');
    expect(buildDsn(store('s3', { bucket: 'lake' }), new Map())).toEqual({
      dsn: 's3://lake',
      connector: 's3',
      containsSecret: false,
    });
  });

  it('builds kafka from bootstrapServers or brokers, defaulting to localhost:9092', () => {
    expect(buildDsn(store('kafka', { brokers: 'k1:9092,k2:9092', topic: 'events' }), new Map()).dsn).toBe(
      'kafka://k1:9092,k2:9092/events',
    );
    expect(buildDsn(store('kafka', { topic: 'events' }), new Map()).dsn).toBe(
      'kafka://localhost:9092/events',
    );
  });

  it('builds any other connector as connector:?key=value, keys sorted', () => {
    expect(buildDsn(store('snowflake', { warehouse: 'wh', account: 'acme' }), new Map()).dsn).toBe(
      'snowflake:?account=acme&warehouse=wh',
    );
  });
});
