import type { Classification, DataSetManifest } from '../../contracts/manifests/dataset.js';
import type { Problem } from '../../contracts/problem.js';

/** Classifications strong enough for personal data. */
export const PII_CLASSIFICATIONS: ReadonlySet<Classification> = new Set(['confidential', 'restricted']);

/** G001: a DataSet holding any `pii: true` field must be classified confidential or restricted. */
export function checkPiiClassification(dataSet: DataSetManifest): Problem[] {
  const piiFields = (dataSet.spec.schema ?? [])
    .filter((field) => field.pii === true)
    .map((field) => field.name);
  const { classification } = dataSet.spec;
  if (piiFields.length === 0 || (classification !== undefined && PII_CLASSIFICATIONS.has(classification))) {
    return [];
  }
  const current = classification === undefined ? 'has no classification' : `is classified ${classification}`;
  return [
    {
      code: 'G001',
      path: 'spec.classification',
      message: `DataSet ${dataSet.metadata.name} ${current} but holds PII (${piiFields.join(', ')}); classify it confidential or restricted`,
    },
  ];
}

/** E004 (warning): a DataSet without a classification; the schema allows it, governance reports need it. */
export function checkClassificationPresent(dataSet: DataSetManifest): Problem[] {
  if (dataSet.spec.classification !== undefined) {
    return [];
  }
  return [
    {
      code: 'E004',
      path: 'spec.classification',
      message: `DataSet ${dataSet.metadata.name} has no classification; set one of public, internal, confidential, restricted`,
    },
  ];
}
