import { mkdirSync } from 'node:fs';
import dynalite from 'dynalite';

/** A DynamoDB-compatible server in this process (dynalite), on loopback. */
export interface EmbeddedDynamoDb {
  readonly endpoint: string;
  close(): Promise<void>;
}

export interface EmbeddedDynamoDbOptions {
  /** Directory for persistent data. @default in memory */
  readonly dataDir?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
}

/** Starts dynalite on 127.0.0.1; tables are created ACTIVE at once. */
export async function startEmbeddedDynamoDb(
  options: EmbeddedDynamoDbOptions = {},
): Promise<EmbeddedDynamoDb> {
  if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true });
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.dataDir === undefined ? {} : { path: options.dataDir }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('embedded DynamoDB did not bind a TCP port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // The SDK keeps connections alive; without this, close() waits for them to time out.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
