import { resolve } from 'node:path';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ConnectionPolicy } from '../lib/adapters/oci/connection-policy.js';
import { DistributionClient } from '../lib/adapters/oci/distribution-client.js';
import { EcrCredentialProvider, ecrLayerBucketHosts } from '../lib/adapters/oci/ecr-credentials.js';
import {
  buildPackageArtifact,
  pushArtifact,
  readPackageDirectory,
} from '../lib/adapters/oci/package-builder.js';
import { formatReference, InvalidReferenceError, parseReference } from '../lib/domain/registry/reference.js';

const usage = `usage: npm run cli -- push <package-dir> <registry>/<repository>:<tag>

  push   builds the package directory into a DataKit artifact (the layout \`dk build\` produces:
         config blob, manifests layer with dk.yaml and schemas/, content layer with the rest)
         and pushes it; loopback registries are reached over http, ECR with GetAuthorizationToken.
`;

/** The developer CLI: `push` builds and publishes a package as `dk publish` would. */
async function main(args: readonly string[]): Promise<number> {
  const [command, dir, target] = args;
  if (command !== 'push' || dir === undefined || target === undefined) {
    process.stderr.write(usage);
    return 2;
  }
  let reference: ReturnType<typeof parseReference>;
  try {
    reference = parseReference(target);
  } catch (error) {
    if (!(error instanceof InvalidReferenceError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  if (reference.tag === undefined) {
    process.stderr.write('push needs a tag (the package version), not a digest\n');
    return 2;
  }
  const files = await readPackageDirectory(resolve(dir));
  if (files['dk.yaml'] === undefined) {
    process.stderr.write(`${dir} has no dk.yaml\n`);
    return 2;
  }
  // The registry the user named, listed exactly: a private or loopback one is their decision.
  const client = new DistributionClient({
    credentials: new EcrCredentialProvider({ client: (region) => new ECRClient({ region }) }),
    policy: new ConnectionPolicy({
      registries: [reference.registry],
      blobHosts: ecrLayerBucketHosts([reference.registry]),
    }),
  });
  const pushed = await pushArtifact(client, reference, reference.tag, await buildPackageArtifact(files));
  process.stdout.write(`${formatReference(pushed)}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
