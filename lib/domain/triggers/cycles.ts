/** A DataSet in a cell. */
export interface CellDataSet {
  readonly cell: string;
  readonly namespace: string;
  readonly name: string;
}

/** A deployed on-change consumer and what it writes. */
export interface OnChangeConsumer {
  readonly namespace: string;
  readonly name: string;
  readonly outputs: readonly CellDataSet[];
}

/** Who reads a DataSet in a cell with an on-change trigger (the committed deployments' subscriptions). */
export type OnChangeReaders = (dataSet: CellDataSet) => Promise<readonly OnChangeConsumer[]>;

const key = (dataSet: CellDataSet) => `${dataSet.cell}/${dataSet.namespace}/${dataSet.name}`;

/**
 * The on-change cycle a Transform would close by being deployed with an on-change trigger: a path from
 * one of its outputs, through DataSets and the on-change consumers reading them, back to one of its
 * inputs — `[package, dataset, package, dataset, …, package]`, or undefined. Breadth-first, so the path is
 * a shortest one; the Transform's own current deployment is left out (its new version replaces it).
 */
export async function findTriggerCycle(
  transform: {
    readonly namespace: string;
    readonly name: string;
    readonly inputs: readonly CellDataSet[];
    readonly outputs: readonly CellDataSet[];
  },
  readers: OnChangeReaders,
): Promise<string[] | undefined> {
  const self = `${transform.namespace}/${transform.name}`;
  const inputs = new Set(transform.inputs.map(key));
  const seen = new Set<string>();
  let frontier = transform.outputs.map((output) => ({ dataSet: output, path: [`package:${self}`] }));
  while (frontier.length > 0) {
    const next: typeof frontier = [];
    for (const { dataSet, path } of frontier) {
      if (seen.has(key(dataSet))) continue;
      seen.add(key(dataSet));
      const here = [...path, `dataset:${dataSet.namespace}/${dataSet.name}@${dataSet.cell}`];
      if (inputs.has(key(dataSet))) return [...here, `package:${self}`];
      for (const consumer of await readers(dataSet)) {
        if (`${consumer.namespace}/${consumer.name}` === self) continue;
        for (const output of consumer.outputs) {
          next.push({ dataSet: output, path: [...here, `package:${consumer.namespace}/${consumer.name}`] });
        }
      }
    }
    frontier = next;
  }
  return undefined;
}
