/**
 * A DataSet manifest the run and promotion tests (and benchmarks) publish: an internal DataSet with one
 * string column `id`, under `prefix` of the cell's `files` Store.
 */
export function fileDataSetManifest(namespace: string, name: string, prefix = `${name}/`): string {
  return `apiVersion: datakit.infoblox.dev/v1alpha1
kind: DataSet
metadata: { name: ${name}, namespace: ${namespace}, version: 1.0.0 }
spec:
  store: files
  prefix: ${prefix}
  classification: internal
  schema:
    - { name: id, type: string }
`;
}
