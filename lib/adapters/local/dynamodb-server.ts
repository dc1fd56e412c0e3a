import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import * as z from 'zod';

/** A DynamoDB-compatible server (dynalite) on loopback, in a worker thread of this process. */
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

/**
 * The worker's program (CommonJS, as `eval` workers are): starts dynalite, reports its port, and
 * closes the server (and with it the LevelDB store) when told to.
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const dynalite = require(workerData.dynalite);
const server = dynalite(workerData.options);
server.once('error', (error) => parentPort.postMessage({ type: 'error', message: String(error && error.message) }));
server.listen(workerData.port, '127.0.0.1', () => parentPort.postMessage({ type: 'listening', port: server.address().port }));
parentPort.on('message', (message) => {
  if (message !== 'close') return;
  server.closeAllConnections();
  server.close((error) => parentPort.postMessage({ type: 'closed', message: error ? String(error.message) : undefined }));
});
`;

const workerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('listening'), port: z.number().int().positive() }),
  z.object({ type: z.literal('error'), message: z.string() }),
  z.object({ type: z.literal('closed'), message: z.string().optional() }),
]);

type WorkerMessage = z.infer<typeof workerMessageSchema>;

/**
 * Starts dynalite on 127.0.0.1 in a worker thread, so the storage server gets its own core instead of
 * competing with the handlers for this thread; tables are created ACTIVE at once.
 */
export async function startEmbeddedDynamoDb(
  options: EmbeddedDynamoDbOptions = {},
): Promise<EmbeddedDynamoDb> {
  if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true });
  const worker = new Worker(workerSource, {
    eval: true,
    workerData: {
      dynalite: createRequire(import.meta.url).resolve('dynalite'),
      port: options.port ?? 0,
      options: {
        createTableMs: 0,
        deleteTableMs: 0,
        updateTableMs: 0,
        ...(options.dataDir === undefined ? {} : { path: options.dataDir }),
      },
    },
  });
  const next = (): Promise<WorkerMessage> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`embedded DynamoDB worker exited with ${code}`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (message: unknown) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        resolve(workerMessageSchema.parse(message));
      });
    });

  const started = await next();
  if (started.type !== 'listening') {
    await worker.terminate();
    throw new Error(
      `embedded DynamoDB did not start: ${started.type === 'error' ? started.message : started.type}`,
    );
  }
  return {
    endpoint: `http://127.0.0.1:${started.port}`,
    close: async () => {
      const closed = next();
      worker.postMessage('close');
      const outcome = await closed;
      await worker.terminate();
      if (outcome.type === 'closed' && outcome.message !== undefined) throw new Error(outcome.message);
    },
  };
}
