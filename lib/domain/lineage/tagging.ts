import type { LineageReader, TagWriter } from '../../ports/lineage-store.js';
import { NotFoundError } from '../errors.js';
import type { LineageCatalog, MarquezTag } from './catalog.js';
import type { MarquezDataset, MarquezJob } from './marquez.js';
import { datasetNodeId, jobNodeId } from './node-id.js';

/**
 * Marquez's tag writes: `PUT /tags/{tag}`, and tags added to (or removed from) a job, a dataset or a
 * dataset's field. Tags added here sit beside the ones producers send in their tags facets; removing a
 * tag removes one added here (a producer's tag comes from its events).
 */
export function makeTagging(deps: {
  store: TagWriter & Pick<LineageReader, 'getDataset'>;
  catalog: LineageCatalog;
}) {
  const { store, catalog } = deps;

  return {
    async putTag(name: string, description: string | undefined): Promise<MarquezTag> {
      const tag = await store.putTag(description === undefined ? { name } : { name, description });
      return { name: tag.name, description: tag.description ?? null };
    },

    async tagJob(namespace: string, job: string, tag: string, add: boolean): Promise<MarquezJob> {
      if (!(await store.tag({ kind: 'job', id: jobNodeId(namespace, job) }, tag, add))) {
        throw new NotFoundError('JOB_NOT_FOUND', `No job ${namespace}:${job}.`);
      }
      return catalog.job(namespace, job);
    },

    async tagDataset(namespace: string, dataset: string, tag: string, add: boolean): Promise<MarquezDataset> {
      if (!(await store.tag({ kind: 'dataset', id: datasetNodeId(namespace, dataset) }, tag, add))) {
        throw new NotFoundError('DATASET_NOT_FOUND', `No dataset ${namespace}:${dataset}.`);
      }
      return catalog.dataset(namespace, dataset);
    },

    /** A tag on one field: the field must be one of the dataset's (404 `DATASET_FIELD_NOT_FOUND`). */
    async tagField(
      namespace: string,
      dataset: string,
      field: string,
      tag: string,
      add: boolean,
    ): Promise<MarquezDataset> {
      const id = datasetNodeId(namespace, dataset);
      const stored = await store.getDataset(id);
      if (stored === undefined)
        throw new NotFoundError('DATASET_NOT_FOUND', `No dataset ${namespace}:${dataset}.`);
      if (!stored.dataset.fields.some((candidate) => candidate.name === field)) {
        throw new NotFoundError(
          'DATASET_FIELD_NOT_FOUND',
          `No field ${field} in dataset ${namespace}:${dataset}.`,
        );
      }
      await store.tag({ kind: 'field', id, field }, tag, add);
      return catalog.dataset(namespace, dataset);
    },
  };
}
