import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { lazyContract, loadRoute } from '../../../lib/api/route-definition.js';
import { routeList } from '../../../lib/api/routes.js';

const isZodSchema = (value: unknown): boolean => value instanceof z.ZodType;

describe('the route table', () => {
  it.each(routeList.map((route) => [route.operationId, route] as const))(
    '%s loads zod schemas for its path, query, body and responses',
    async (_operationId, route) => {
      const definition = await loadRoute(route);
      for (const part of ['pathParameters', 'query', 'body'] as const) {
        expect(definition[part] === undefined).toBe(route[part] === undefined);
        if (definition[part] !== undefined) expect(isZodSchema(definition[part])).toBe(true);
      }
      for (const [status, response] of Object.entries(route.responses)) {
        const loaded = definition.responses[Number(status)];
        expect(loaded?.description).toBe(response.description);
        expect(loaded?.schema === undefined).toBe(response.schema === undefined);
        if (loaded?.schema !== undefined) expect(isZodSchema(loaded.schema)).toBe(true);
      }
    },
  );
});

describe('lazyContract', () => {
  const module = { nameSchema: z.string().min(1), countSchema: z.number(), label: 'not a schema' };

  it('loads the contract module on the first schema asked for, and only once', async () => {
    let loads = 0;
    const contract = lazyContract(async () => {
      loads += 1;
      return module;
    });
    const name = contract.nameSchema;
    expect(loads).toBe(0);
    const [first, second, count] = await Promise.all([name(), contract.nameSchema(), contract.countSchema()]);
    expect(loads).toBe(1);
    expect(first).toBe(module.nameSchema);
    expect(second).toBe(module.nameSchema);
    expect(count).toBe(module.countSchema);
  });

  it('refuses an export that is not a schema, naming it', async () => {
    const contract = lazyContract(async () => module);
    const label: unknown = Reflect.get(contract, 'label');
    expect(typeof label).toBe('function');
    if (typeof label !== 'function') return;
    await expect(label()).rejects.toThrow('the contract module exports no schema label');
  });

  it('is not a thenable, so awaiting it loads nothing', async () => {
    let loads = 0;
    const contract = lazyContract(async () => {
      loads += 1;
      return module;
    });
    expect(await contract).toBe(contract);
    expect(loads).toBe(0);
  });
});
