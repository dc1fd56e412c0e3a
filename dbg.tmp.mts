import { startEmbeddedControlPlane } from './lambdas/embedded.ts';
import { DistributionClient } from './lib/adapters/oci/distribution-client.ts';
import { buildDkArtifact, hostileContentLayer, pushArtifact } from './test/support/dk-artifact.ts';
import { startRegistry } from './test/support/registry.ts';
const registry = await startRegistry();
const plane = await startEmbeddedControlPlane({ port: 0, logLevel: 'ERROR' });
try {
  const client = new DistributionClient({ timeoutMs: 60_000 });
  const repository = { registry: registry.host, repository: 'sales/x' };
  const files = { 'dk.yaml': `apiVersion: datakit.infoblox.dev/v1alpha1\nkind: Transform\nmetadata: { name: x, namespace: sales, version: 1.0.0 }\nspec:\n  runtime: generic-python\n  image: a/b:1\n  inputs: [{ dataset: a }]\n  outputs: [{ dataset: b }]\n  trigger: { policy: on-change }\n` };
  const pushed = await pushArtifact(client, repository, '1.0.0', await buildDkArtifact(files, {}, { contentLayer: await hostileContentLayer(process.argv[2] ?? 'hostile-yaml-at-parse-budget').build() }));
  const r = await fetch(`${plane.url}/v1/registrations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reference: `${registry.host}/sales/x@${pushed.digest}` }) });
  const text = await r.text();
  console.log(r.status, text.length, text.slice(0, 600));
} finally { await plane.close(); await registry.stop(); }
