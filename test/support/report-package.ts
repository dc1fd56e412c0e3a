import { fileDataSetManifest } from './manifests.js';

/**
 * The files of a small package: a manually triggered Transform `name` that reads `orders` and writes
 * `daily`, two internal DataSets, all in `namespace` (what the promotion and access end-to-end tests
 * publish, version after version).
 */
export function reportPackageFiles(namespace: string, name: string, version: string): Record<string, string> {
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
    'dataset/orders.yaml': fileDataSetManifest(namespace, 'orders'),
    'dataset/daily.yaml': fileDataSetManifest(namespace, 'daily'),
  };
}
