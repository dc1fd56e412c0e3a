/** A consumer deployed in a cell: a Transform in one environment. */
export interface Consumer {
  readonly namespace: string;
  readonly name: string;
  readonly env: string;
  /** Where the consumer is deployed and runs, when not the cell of the update (an input with `cell:`). */
  readonly cell?: string | undefined;
}

/**
 * Who reads a DataSet in a cell, from the on-change subscriptions of the committed deployments (ADR 0006):
 * only Transforms whose trigger policy includes on-change.
 */
export interface ConsumerDirectory {
  consumersOf(
    cell: string,
    dataset: { readonly namespace: string; readonly name: string },
  ): Promise<readonly Consumer[]>;
}
