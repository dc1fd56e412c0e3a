import type { DataSetManifest } from '../../contracts/manifests/dataset.js';
import type { Problem } from '../../contracts/problem.js';

/** E310: an inline schema and a schemaRef would be two sources of truth for the same contract. */
export function checkSchemaSource(dataSet: DataSetManifest): Problem[] {
  if (dataSet.spec.schema === undefined || dataSet.spec.schemaRef === undefined) {
    return [];
  }
  return [
    {
      code: 'E310',
      path: 'spec.schemaRef',
      message: `DataSet ${dataSet.metadata.name} sets both spec.schema and spec.schemaRef; keep one of them`,
    },
  ];
}
