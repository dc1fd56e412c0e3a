import type {
  DeploymentRecord,
  DeploymentRepository,
  ListPromotionsQuery,
  PromotionRecord,
} from '../../ports/deployment-store.js';
import type { Page } from '../../ports/package-repository.js';
import { deploymentRecordSchema, promotionRecordSchema } from './deployment-records.js';
import { keys } from './keys.js';
import type { Item, SingleTable } from './single-table.js';

function pageOf<T>(items: T[], nextCursor: string | undefined): Page<T> {
  return nextCursor === undefined ? { items } : { items, nextCursor };
}

/**
 * Deployments (`PKG#{ns}#{name}` / `DEPLOY#{env}#{cell}`, listed per environment through GSI3) and
 * promotions (`PROMO#{id}`, listed per package through GSI1 and overall through GSI2, newest first).
 */
export class DynamoDeploymentStore implements DeploymentRepository {
  constructor(private readonly table: SingleTable) {}

  async getDeployment(
    namespace: string,
    name: string,
    env: string,
    cell: string,
  ): Promise<DeploymentRecord | undefined> {
    const item = await this.table.get(keys.deployment(namespace, name, env, cell));
    return item === undefined ? undefined : deploymentRecordSchema.parse(item);
  }

  async listDeploymentsOfPackage(namespace: string, name: string): Promise<DeploymentRecord[]> {
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
    const item: Item = {
      ...keys.deployment(deployment.namespace, deployment.name, deployment.env, deployment.cell),
      ...deployment,
      GSI3PK: keys.deploymentsIndex.pk(deployment.env),
      GSI3SK: keys.deploymentsIndex.sk(deployment.cell, deployment.namespace, deployment.name),
    };
    return deploymentRecordSchema.parse(await this.table.putWithRevision(item, expectedRevision));
  }

  async getPromotion(id: string): Promise<PromotionRecord | undefined> {
    const item = await this.table.get(keys.promotion(id));
    return item === undefined ? undefined : promotionRecordSchema.parse(item);
  }

  async listPromotions(query: ListPromotionsQuery): Promise<Page<PromotionRecord>> {
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
}
