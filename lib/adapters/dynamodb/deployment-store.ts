import * as z from 'zod';
import { ConcurrentModificationError } from '../../domain/errors.js';
import type {
  DeploymentRecord,
  DeploymentRepository,
  ListPromotionsQuery,
  PromotionLockHolder,
  PromotionLockTarget,
  PromotionRecord,
  PromotionRepository,
} from '../../ports/deployment-store.js';
import type { Page } from '../../ports/package-repository.js';
import { recordSchemas } from './deployment-records-lazy.js';
import { keys } from './keys.js';
import type { Item, SingleTable } from './single-table.js';

const lockItemSchema = z.object({
  promotionId: z.string(),
  at: z.string(),
  revision: z.number().int().positive(),
});
const executionItemSchema = z.object({ promotionId: z.string() });

function pageOf<T>(items: T[], nextCursor: string | undefined): Page<T> {
  return nextCursor === undefined ? { items } : { items, nextCursor };
}

/**
 * Deployments (`PKG#{ns}#{name}` / `DEPLOY#{env}#{cell}`, listed per environment through GSI3),
 * promotions (`PROMO#{id}`, listed per package through GSI1 and overall through GSI2, newest first), the
 * open-promotion locks (`PKG#{ns}#{name}` / `PROMOLOCK#{env}#{cell}`) and pipeline executions
 * (`PIPEEXEC#{executionId}`).
 */
export class DynamoDeploymentStore implements DeploymentRepository, PromotionRepository {
  constructor(private readonly table: SingleTable) {}

  async getDeployment(
    namespace: string,
    name: string,
    env: string,
    cell: string,
  ): Promise<DeploymentRecord | undefined> {
    const { deploymentRecordSchema } = await recordSchemas();
    const item = await this.table.get(keys.deployment(namespace, name, env, cell));
    return item === undefined ? undefined : deploymentRecordSchema.parse(item);
  }

  async listDeploymentsOfPackage(namespace: string, name: string): Promise<DeploymentRecord[]> {
    const { deploymentRecordSchema } = await recordSchemas();
    const items = await this.table.queryAll({
      partition: keys.packagePartition(namespace, name),
      beginsWith: keys.deploymentPrefix,
      consistent: true,
    });
    return items.map((item) => deploymentRecordSchema.parse(item));
  }

  async listDeploymentsOfEnvironment(
    env: string,
    query: {
      readonly cell?: string | undefined;
      readonly limit: number;
      readonly cursor?: string | undefined;
    },
  ): Promise<Page<DeploymentRecord>> {
    const { deploymentRecordSchema } = await recordSchemas();
    const page = await this.table.query({
      index: 'GSI3',
      partition: keys.deploymentsIndex.pk(env),
      ...(query.cell === undefined ? {} : { beginsWith: keys.deploymentsIndex.cellPrefix(query.cell) }),
      limit: query.limit,
      cursor: query.cursor,
    });
    return pageOf(
      page.items.map((item) => deploymentRecordSchema.parse(item)),
      page.nextCursor,
    );
  }

  async commitDeployment(deployment: DeploymentRecord, expectedRevision: number): Promise<DeploymentRecord> {
    const { deploymentRecordSchema } = await recordSchemas();
    const item: Item = {
      ...keys.deployment(deployment.namespace, deployment.name, deployment.env, deployment.cell),
      ...deployment,
      GSI3PK: keys.deploymentsIndex.pk(deployment.env),
      GSI3SK: keys.deploymentsIndex.sk(deployment.cell, deployment.namespace, deployment.name),
    };
    return deploymentRecordSchema.parse(await this.table.putWithRevision(item, expectedRevision));
  }

  async getPromotion(id: string): Promise<PromotionRecord | undefined> {
    const { promotionRecordSchema } = await recordSchemas();
    const item = await this.table.get(keys.promotion(id));
    return item === undefined ? undefined : promotionRecordSchema.parse(item);
  }

  async listPromotions(query: ListPromotionsQuery): Promise<Page<PromotionRecord>> {
    const { promotionRecordSchema } = await recordSchemas();
    const ofPackage = query.namespace !== undefined && query.name !== undefined;
    const filter: Record<string, string> = {};
    if (query.env !== undefined) filter.env = query.env;
    if (query.status !== undefined) filter.status = query.status;
    if (!ofPackage && query.namespace !== undefined) filter.namespace = query.namespace;
    if (!ofPackage && query.name !== undefined) filter.name = query.name;
    const page = await this.table.query({
      index: ofPackage ? 'GSI1' : 'GSI2',
      partition: ofPackage
        ? keys.promotionsIndex.ofPackage(query.namespace ?? '', query.name ?? '')
        : keys.promotionsIndex.all,
      ascending: false,
      filter,
      limit: query.limit,
      cursor: query.cursor,
    });
    return pageOf(
      page.items.map((item) => promotionRecordSchema.parse(item)),
      page.nextCursor,
    );
  }

  async putPromotion(promotion: PromotionRecord, expectedRevision: number): Promise<PromotionRecord> {
    const { promotionRecordSchema } = await recordSchemas();
    const sk = keys.promotionsIndex.sk(promotion.createdAt, promotion.id);
    const item: Item = {
      ...keys.promotion(promotion.id),
      ...promotion,
      GSI1PK: keys.promotionsIndex.ofPackage(promotion.namespace, promotion.name),
      GSI1SK: sk,
      GSI2PK: keys.promotionsIndex.all,
      GSI2SK: sk,
    };
    return promotionRecordSchema.parse(await this.table.putWithRevision(item, expectedRevision));
  }

  async claimPromotionLock(
    target: PromotionLockTarget,
    promotionId: string,
    at: string,
  ): Promise<{ readonly claimed: true } | { readonly claimed: false; readonly holder: PromotionLockHolder }> {
    const key = keys.promotionLock(target.namespace, target.name, target.env, target.cell);
    for (;;) {
      try {
        await this.table.putWithRevision({ ...key, promotionId, at }, 0);
        return { claimed: true };
      } catch (error) {
        if (!(error instanceof ConcurrentModificationError)) throw error;
      }
      const item = await this.table.get(key);
      // Locks are never deleted, so an item that refused the write is there to read.
      if (item !== undefined) return { claimed: false, holder: lockItemSchema.parse(item) };
    }
  }

  async takeOverPromotionLock(
    target: PromotionLockTarget,
    promotionId: string,
    at: string,
    expectedRevision: number,
  ): Promise<boolean> {
    const key = keys.promotionLock(target.namespace, target.name, target.env, target.cell);
    try {
      await this.table.putWithRevision({ ...key, promotionId, at }, expectedRevision);
      return true;
    } catch (error) {
      if (error instanceof ConcurrentModificationError) return false;
      throw error;
    }
  }

  async recordPipelineExecution(executionId: string, promotionId: string): Promise<void> {
    await this.table.put({ ...keys.pipelineExecution(executionId), promotionId });
  }

  async promotionOfExecution(executionId: string): Promise<string | undefined> {
    const item = await this.table.get(keys.pipelineExecution(executionId));
    return item === undefined ? undefined : executionItemSchema.parse(item).promotionId;
  }
}
