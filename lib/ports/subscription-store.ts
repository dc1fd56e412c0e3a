/** An on-change subscription of a deployed consumer to a DataSet updated in a cell (ADR 0006, 0013). */
export interface Subscription {
  /** Where the DataSet's updates arrive (the consumer's cell, or the cell an input names). */
  readonly cell: string;
  readonly dataset: { readonly namespace: string; readonly name: string };
  readonly consumer: {
    readonly namespace: string;
    readonly name: string;
    readonly env: string;
    readonly cell: string;
  };
  /** The consumer version that subscribed: visible only while that version is the deployed one. */
  readonly version: string;
}

/** A DataSet's OpenLineage name resolving to a DataKit DataSet in a cell (written by deploys). */
export interface DataSetAlias {
  readonly lineage: { readonly namespace: string; readonly name: string };
  readonly cell: string;
  readonly namespace: string;
  readonly name: string;
}

/** Subscriptions and aliases, staged by deploys and joined against deployments by readers. */
export interface SubscriptionStore {
  /** Writes subscriptions (idempotent puts): invisible until the deployment naming their version commits. */
  putSubscriptions(subscriptions: readonly Subscription[]): Promise<void>;
  /** Removes subscriptions (a deploy cleaning up the items of the version it replaced). */
  deleteSubscriptions(subscriptions: readonly Subscription[]): Promise<void>;
  /** Every subscription to a DataSet updated in a cell, whatever version wrote it. */
  subscriptionsOf(
    cell: string,
    dataset: { readonly namespace: string; readonly name: string },
  ): Promise<Subscription[]>;
  /** Records what OpenLineage names resolve to (idempotent). */
  putAliases(aliases: readonly DataSetAlias[]): Promise<void>;
  /** The DataKit DataSets an OpenLineage name resolves to. */
  aliasesOf(lineage: { readonly namespace: string; readonly name: string }): Promise<DataSetAlias[]>;
}
