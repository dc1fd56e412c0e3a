/**
 * The files of a small package: a manually triggered Transform `name` that reads `orders` and writes
 * `daily`, two internal DataSets, all in `namespace` (what the promotion and access end-to-end tests
 * publish, version after version).
 */
export function reportPackageFiles(namespace: string, name: string, version: string): Record<string, string> {
  const dataSet = (dataset: string) => `apiVersion: datakit.infoblox.dev/v1alpha1
kind: DataSet
metadata: { name: ${dataset}, namespace: ${namespace}, version: 1.0.0 }
spec:
  store: files
  prefix: ${dataset}/
  classification: internal
  schema:
    - { name: id, type: string }
`;
  return {
    'dk.yaml': `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata: { name: ${name}, namespace: ${namespace}, version: ${version} }
spec:
  runtime: generic-python
  image: team/report:${version}
  command: ["node", "-e", "console.log('report ${version}')"]
  inputs: [{ dataset: orders }]
  outputs: [{ dataset: daily }]
  trigger: { policy: manual }
  timeout: 1m
`,
    'dataset/orders.yaml': dataSet('orders'),
    'dataset/daily.yaml': dataSet('daily'),
  };
}
