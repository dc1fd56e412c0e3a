import { Logger } from '@aws-lambda-powertools/logger';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalPromotionPipeline } from '../../../lib/adapters/local/local-promotion-pipeline.js';
import { callerFor } from '../../../lib/domain/identity/principal.js';
import {
  packageName as name,
  namespace,
  type PromotionPlane,
  startPromotionPlane,
  stopPromotionRegistry,
} from '../../support/promotion-plane.js';

/**
 * The approval invariant against the whole use-case stack (real table, in-process pipeline): whatever
 * requests any principals send — promotions with or without override, rollbacks, approvals and
 * rejections for any group, stage jobs run out of turn (as a console approval or a forged job would),
 * time passing beyond the approval timeout — every version deployed to prod was approved by a member of
 * owners and a member of security, two people, neither of them the one who asked.
 */

const account = '111122223333';
const session = (role: string, person: string) => `arn:aws:sts::${account}:assumed-role/${role}/${person}`;
const principals = [
  session('Owners', 'alice'),
  session('Security', 'alice'),
  session('Owners', 'bob'),
  session('Security', 'carol'),
  session('Security', 'rita'),
  session('Deployers', 'rita'),
  session('Deployers', 'dan'),
  `arn:aws:iam::${account}:user/eve`,
];

/** Ground truth, independent of the group directory. */
function truth(principal: string): { person: string; groups: string[] } {
  const [, role = '', person = ''] = /assumed-role\/([^/]+)\/(.+)$/.exec(principal) ?? [];
  if (person === '') return { person: principal.slice(principal.lastIndexOf('/') + 1), groups: [] };
  return { person, groups: role === 'Owners' ? ['owners'] : role === 'Security' ? ['security'] : [] };
}

type Operation =
  | { kind: 'request'; by: string; env: 'dev' | 'int' | 'prod'; version: string; override: boolean }
  | { kind: 'rollback'; by: string; env: 'int' | 'prod' }
  | { kind: 'decide'; by: string; pick: number; decision: 'approve' | 'reject'; group: string | undefined }
  | { kind: 'stage'; pick: number; stage: 'guard' | 'deploy' }
  | { kind: 'time'; minutes: number };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('request' as const),
      by: fc.constantFrom(...principals),
      env: fc.constantFrom('dev' as const, 'int' as const, 'prod' as const, 'prod' as const),
      version: fc.constantFrom('1.0.0', '1.1.0'),
      override: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('rollback' as const),
      by: fc.constantFrom(...principals),
      env: fc.constantFrom('int' as const, 'prod' as const),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('decide' as const),
      // Members of the groups decide most often: sequences that deploy are rare otherwise.
      by: fc.oneof(
        { weight: 2, arbitrary: fc.constantFrom(...principals) },
        {
          weight: 3,
          arbitrary: fc.constantFrom(principals[0] ?? '', principals[2] ?? '', principals[3] ?? ''),
        },
      ),
      pick: fc.nat(),
      decision: fc.oneof(
        { weight: 6, arbitrary: fc.constant('approve' as const) },
        { weight: 1, arbitrary: fc.constant('reject' as const) },
      ),
      group: fc.option(fc.constantFrom('owners', 'security'), { nil: undefined, freq: 2 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('stage' as const),
      pick: fc.nat(),
      stage: fc.constantFrom('guard' as const, 'deploy' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('time' as const), minutes: fc.integer({ min: 1, max: 90 }) }),
  },
);

let harness: PromotionPlane;

/** The promotions of `ids` still open. */
async function openIds(ids: readonly string[]): Promise<string[]> {
  const records = await Promise.all(ids.map((id) => harness.plane.deployments.getPromotion(id)));
  return records
    .filter((record) => record?.status === 'AWAITING_APPROVAL' || record?.status === 'DEPLOYING')
    .map((record) => record?.id ?? '');
}
let pipeline: LocalPromotionPipeline;
let runs = 0;

beforeAll(async () => {
  pipeline = new LocalPromotionPipeline(new Logger({ logLevel: 'SILENT' }));
  harness = await startPromotionPlane({
    groups: {
      owners: [`arn:aws:iam::${account}:role/Owners`],
      security: [`arn:aws:iam::${account}:role/Security`],
    },
    pipeline,
    versions: ['1.0.0', '1.1.0'],
    cells: [],
    approvalTimeoutMinutes: 60,
  });
  pipeline.bind(harness.plane.promotions.stages);
}, 120_000);

afterAll(async () => {
  await pipeline?.drain();
  await harness?.close();
  await stopPromotionRegistry();
});

describe('the approval invariant against the use cases (model test)', () => {
  it('deploys nothing to prod without an owner and a security member, two people, neither the requester', async () => {
    const promotions = harness.plane.promotions;
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 5, maxLength: 25 }), async (operations) => {
        const cell = `m${runs++}`;
        await harness.plane.cells.putCell(cell, {});
        await harness.plane.cells.putStore(
          cell,
          'files',
          JSON.stringify({
            apiVersion: 'datakit.infoblox.dev/v1alpha1',
            kind: 'Store',
            metadata: { name: 'files' },
            spec: { connector: 'file', connection: { path: '/tmp/model' } },
          }),
        );
        const ids: string[] = [];
        for (const op of operations) {
          // Refusals are expected; the invariant is about what got through.
          const attempt = async (): Promise<unknown> => {
            switch (op.kind) {
              case 'request':
                return ids.push(
                  (
                    await promotions.request({
                      namespace,
                      name,
                      version: op.version,
                      env: op.env,
                      cell,
                      requestedBy: callerFor(op.by),
                      ...(op.override ? { override: { reason: 'model' } } : {}),
                    })
                  ).id,
                );
              case 'rollback':
                return ids.push(
                  (
                    await promotions.rollback({
                      namespace,
                      name,
                      env: op.env,
                      cell,
                      requestedBy: callerFor(op.by),
                    })
                  ).id,
                );
              case 'decide': {
                // Mostly an open promotion: decisions on those are the ones that can lead anywhere.
                const open = await openIds(ids);
                const pool = open.length > 0 && op.pick % 4 !== 0 ? open : ids;
                const id = pool[op.pick % Math.max(pool.length, 1)];
                if (id === undefined) return undefined;
                return promotions.decide({
                  promotionId: id,
                  decision: op.decision,
                  group: op.group,
                  caller: callerFor(op.by),
                });
              }
              case 'stage': {
                const id = ids[op.pick % Math.max(ids.length, 1)];
                if (id === undefined) return undefined;
                return op.stage === 'guard' ? promotions.stages.guard(id) : promotions.stages.deploy(id);
              }
              case 'time':
                return harness.advance(op.minutes * 60_000);
            }
          };
          await attempt().catch((error: unknown) => {
            if (!(error instanceof Error) || !('code' in error)) throw error;
          });
          await pipeline.drain();
        }

        const deployment = await harness.plane.deployments.getDeployment(namespace, name, 'prod', cell);
        const promotionIds = [
          deployment?.promotionId,
          ...(deployment?.history ?? []).map((h) => h.promotionId),
        ];
        for (const promotionId of promotionIds) {
          if (promotionId === undefined) continue;
          const promotion = await harness.plane.deployments.getPromotion(promotionId);
          expect(promotion?.status).toBe('DEPLOYED');
          const requester = truth(promotion?.requestedBy ?? '').person;
          const approvals = (promotion?.approvals ?? []).filter(
            (approval) => approval.decision === 'approve',
          );
          const owner = approvals.find(
            (a) => a.group === 'owners' && truth(a.principal).groups.includes('owners'),
          );
          const sec = approvals.find(
            (a) => a.group === 'security' && truth(a.principal).groups.includes('security'),
          );
          expect(owner, 'an owner approved').toBeDefined();
          expect(sec, 'a security member approved').toBeDefined();
          const people = [truth(owner?.principal ?? '').person, truth(sec?.principal ?? '').person];
          expect(people[0]).not.toBe(people[1]);
          expect(people).not.toContain(requester);
        }
      }),
      // A fixed seed, so the runs (and how many of them deploy) are the same every time; explore others
      // with MODEL_SEED=<n>.
      { numRuns: 80, seed: Number(process.env.MODEL_SEED ?? 20_260_301) },
    );
    // Not vacuous: some runs deployed to prod.
    const prod = await harness.plane.deployments.listDeploymentsOfEnvironment('prod', { limit: 100 });
    expect(prod.items.length, 'runs that deployed to prod').toBeGreaterThan(2);
  }, 240_000);
});
