import { ConcurrentModificationError } from '../../domain/errors.js';
import type { RunRecord } from '../../domain/runs/model.js';
import type { Page } from '../../ports/package-repository.js';
import type { LastRun, ListRunsQuery, RunRepository } from '../../ports/run-store.js';
import { recordSchemas } from './deployment-records-lazy.js';
import { keys } from './keys.js';
import { expiresAfter } from './retention.js';
import type { Item, SingleTable } from './single-table.js';

const live = new Set(['PENDING', 'RUNNING']);

/**
 * Runs (`DKRUN#{runId}` / `#RUN`; newest first per package through GSI1, per cell through GSI2, overall
 * through GSI3), the live-run list of each cell, the last run of each deployment (a projection written
 * with every change, newest run wins) and idempotency keys.
 */
export class DynamoRunStore implements RunRepository {
  constructor(
    private readonly table: SingleTable,
    private readonly clock: () => Date = () => new Date(),
    /** Days a run record stays after it ended (or was created, while it has not); 0 keeps them. @default 0 */
    private readonly retentionDays = 0,
  ) {}

  async createRun(run: RunRecord): Promise<boolean> {
    // The first stored revision is 1: revision 0 means "not stored" to `putWithRevision`.
    const stored = { ...run, revision: 1 };
    const created = await this.table.putIfAbsent(this.itemOf(stored));
    if (created) await this.project(stored);
    return created;
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const { runRecordSchema } = await recordSchemas();
    const item = await this.table.get(keys.run(runId));
    return item === undefined ? undefined : runRecordSchema.parse(item);
  }

  async updateRun(run: RunRecord, expectedRevision: number): Promise<boolean> {
    try {
      await this.table.putWithRevision(this.itemOf(run), expectedRevision);
    } catch (error) {
      if (error instanceof ConcurrentModificationError) return false;
      throw error;
    }
    await this.project({ ...run, revision: expectedRevision + 1 });
    return true;
  }

  async listRuns(query: ListRunsQuery): Promise<Page<RunRecord>> {
    const { runRecordSchema } = await recordSchemas();
    const ofPackage = query.namespace !== undefined && query.name !== undefined;
    const filter: Record<string, string> = {};
    if (query.status !== undefined) filter.status = query.status;
    if (query.trigger !== undefined) filter['trigger.type'] = query.trigger;
    if (ofPackage && query.cell !== undefined) filter.cell = query.cell;
    if (!ofPackage && query.namespace !== undefined) filter.namespace = query.namespace;
    if (!ofPackage && query.name !== undefined) filter.name = query.name;
    const [index, partition] = ofPackage
      ? (['GSI1', keys.runsIndex.ofPackage(query.namespace ?? '', query.name ?? '')] as const)
      : query.cell !== undefined
        ? (['GSI2', keys.runsIndex.ofCell(query.cell)] as const)
        : (['GSI3', keys.runsIndex.all] as const);
    const page = await this.table.query({
      index,
      partition,
      ascending: false,
      filter,
      limit: query.limit,
      cursor: query.cursor,
    });
    const items = page.items.map((item) => runRecordSchema.parse(item));
    return page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor };
  }

  async listLiveRuns(cells: readonly string[]): Promise<RunRecord[]> {
    const { runRecordSchema } = await recordSchemas();
    const ids = (
      await Promise.all(
        cells.map((cell) =>
          this.table.queryAll({ partition: keys.liveRunsPartition(cell), consistent: true }),
        ),
      )
    )
      .flat()
      .map((item) => item.SK);
    const runs = await this.table.batchGet(ids.map((id) => keys.run(id)));
    return runs
      .filter((item): item is Item => item !== undefined)
      .map((item) => runRecordSchema.parse(item))
      .filter((run) => live.has(run.status));
  }

  async lastRuns(namespace: string, name: string): Promise<LastRun[]> {
    const { lastRunItemSchema } = await recordSchemas();
    const items = await this.table.queryAll({
      partition: keys.packagePartition(namespace, name),
      beginsWith: keys.lastRunPrefix,
      consistent: true,
    });
    return items.map((item) => lastRunItemSchema.parse(item));
  }

  async claimIdempotencyKey(
    scope: string,
    key: string,
    value: string,
    ttlSeconds: number,
  ): Promise<string | undefined> {
    const itemKey = keys.idempotencyKey(scope, key);
    const expiresAt = Math.floor(this.clock().getTime() / 1000) + ttlSeconds;
    if (await this.table.putIfAbsent({ ...itemKey, value, expiresAt })) return undefined;
    const existing = await this.table.get(itemKey);
    if (existing === undefined) {
      // The earlier claim expired between our write and our read (TTL is filtered on read): claim again.
      await this.table.put({ ...itemKey, value, expiresAt });
      return undefined;
    }
    return typeof existing.value === 'string' ? existing.value : undefined;
  }

  private itemOf(run: RunRecord): Item {
    const sk = keys.runsIndex.sk(run.createdAt, run.runId);
    // Every write sets it again, so a run's retention counts from its end once it has one.
    const expiresAt = expiresAfter(run.finishedAt ?? run.createdAt, this.retentionDays);
    return {
      ...keys.run(run.runId),
      ...run,
      ...(expiresAt === undefined ? {} : { expiresAt }),
      GSI1PK: keys.runsIndex.ofPackage(run.namespace, run.name),
      GSI1SK: sk,
      GSI2PK: keys.runsIndex.ofCell(run.cell),
      GSI2SK: sk,
      GSI3PK: keys.runsIndex.all,
      GSI3SK: sk,
    };
  }

  /**
   * The projections of a run: its place in the cell's live list, and the deployment's last run (kept
   * only by the newest run). Derived state, rewritten by every change, so a crash between the run's write
   * and these heals with the run's next change.
   */
  private async project(run: RunRecord): Promise<void> {
    const liveKey = keys.liveRun(run.cell, run.runId);
    await Promise.all([
      live.has(run.status) ? this.table.put({ ...liveKey }) : this.table.delete(liveKey),
      this.table.update(keys.lastRun(run.namespace, run.name, run.env, run.cell), {
        set: {
          env: run.env,
          cell: run.cell,
          runId: run.runId,
          status: run.status,
          createdAt: run.createdAt,
          ...(run.startedAt === undefined ? {} : { startedAt: run.startedAt }),
          ...(run.finishedAt === undefined ? {} : { finishedAt: run.finishedAt }),
        },
        condition: { kind: 'not-after', attribute: 'createdAt', value: run.createdAt },
      }),
    ]);
  }
}
