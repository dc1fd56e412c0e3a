import * as z from 'zod';
import type { DataSetAlias, Subscription, SubscriptionStore } from '../../ports/subscription-store.js';
import { keys } from './keys.js';
import type { SingleTable } from './single-table.js';

const ref = z.object({ namespace: z.string(), name: z.string() });
const subscriptionSchema = z.object({
  cell: z.string(),
  dataset: ref,
  consumer: ref.extend({ env: z.string(), cell: z.string() }),
  version: z.string(),
});
const aliasSchema = z.object({ lineage: ref, cell: z.string(), namespace: z.string(), name: z.string() });

/** Subscriptions (`SUB#{cell}#{dsNs}#{ds}` / `{env}#{cell}#{ns}#{name}`) and aliases (`DSALIAS#…`). */
export class DynamoSubscriptionStore implements SubscriptionStore {
  constructor(private readonly table: SingleTable) {}

  async putSubscriptions(subscriptions: readonly Subscription[]): Promise<void> {
    await this.table.batchPut(
      subscriptions.map((subscription) => ({
        ...keys.subscription(
          subscription.cell,
          subscription.dataset,
          subscription.consumer,
          subscription.version,
        ),
        ...subscription,
      })),
    );
  }

  async deleteSubscriptions(subscriptions: readonly Subscription[]): Promise<void> {
    await this.table.batchDelete(
      subscriptions.map((subscription) =>
        keys.subscription(
          subscription.cell,
          subscription.dataset,
          subscription.consumer,
          subscription.version,
        ),
      ),
    );
  }

  async subscriptionsOf(
    cell: string,
    dataset: { readonly namespace: string; readonly name: string },
  ): Promise<Subscription[]> {
    const items = await this.table.queryAll({
      partition: keys.subscriptionsPartition(cell, dataset),
      consistent: true,
    });
    return items.map((item) => subscriptionSchema.parse(item));
  }

  async putAliases(aliases: readonly DataSetAlias[]): Promise<void> {
    await this.table.batchPut(
      aliases.map((alias) => ({ ...keys.datasetAlias(alias.lineage, alias), ...alias })),
    );
  }

  async aliasesOf(lineage: { readonly namespace: string; readonly name: string }): Promise<DataSetAlias[]> {
    const items = await this.table.queryAll({
      partition: keys.datasetAliasPartition(lineage),
      consistent: true,
    });
    return items.map((item) => aliasSchema.parse(item));
  }
}
