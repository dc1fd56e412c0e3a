import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as z from 'zod';

/** A DynamoDB-compatible server (dynalite) on loopback, in a worker thread of this process. */
export interface EmbeddedDynamoDb {
  readonly endpoint: string;
  /** Whether the store serves reads and writes: unhealthy after a failed read or write, or while restarting. */
  health(): Promise<StorageHealth>;
  /**
   * The worker's heap and the LevelDB iterators still open (the soak benchmark and the leak guard read
   * them); `collect` runs a full garbage collection in the worker first.
   */
  stats(options?: { collect?: boolean }): Promise<StorageWorkerStats>;
  close(): Promise<void>;
}

export type StorageHealth =
  | { readonly status: 'ok' }
  | { readonly status: 'unhealthy'; readonly detail: string };

export interface StorageWorkerStats {
  /** V8 heap in use in the worker thread, bytes. */
  readonly heapUsed: number;
  readonly heapTotal: number;
  /** LevelDB iterators opened and not closed yet (each pins a snapshot of the store). */
  readonly openIterators: number;
  /** Times the worker stopped on its own and was started again. */
  readonly restarts: number;
}

/** Where the storage worker reports its faults and restarts. */
export interface StorageLogger {
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

export interface EmbeddedDynamoDbOptions {
  /** Directory for persistent data. @default in memory */
  readonly dataDir?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
  /**
   * Sync each write to disk before acknowledging it (LevelDB's `sync`), so acknowledged writes survive
   * an OS crash or power loss, not only a crash of this process. @default true
   */
  readonly sync?: boolean;
  readonly logger?: StorageLogger;
}

/** The data directory cannot be opened as it is; nothing in it was changed. */
export class EmbeddedStorageError extends Error {}

const workerFile = fileURLToPath(new URL('./dynamodb-worker.cjs', import.meta.url));
const faultSchema = z.object({
  kind: z.enum(['write', 'read', 'damaged']),
  action: z.string(),
  message: z.string(),
  since: z.string(),
});
const workerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('listening'), port: z.number().int().positive() }),
  z.object({ type: z.literal('error'), message: z.string() }),
  z.object({ type: z.literal('closed'), message: z.string().optional() }),
  z.object({ type: z.literal('fault'), fault: faultSchema }),
  z.object({ type: z.literal('health'), id: z.number(), fault: faultSchema.optional() }),
  z.object({
    type: z.literal('stats'),
    id: z.number(),
    heapUsed: z.number(),
    heapTotal: z.number(),
    openIterators: z.number(),
  }),
]);
type WorkerMessage = z.infer<typeof workerMessageSchema>;
type Fault = z.infer<typeof faultSchema>;

/** How long the worker may take to answer a health or stats request. */
const answerTimeoutMs = 5_000;
const maxRestartDelayMs = 5_000;

/**
 * Starts dynalite on 127.0.0.1 in a worker thread, so the storage server gets its own core instead of
 * competing with the handlers for this thread; tables are created ACTIVE at once. The store is opened
 * before this resolves: a data directory that cannot be opened, or that lost its `CURRENT` file, is an
 * `EmbeddedStorageError`. A worker that stops unexpectedly is restarted on the same port.
 */
export async function startEmbeddedDynamoDb(
  options: EmbeddedDynamoDbOptions = {},
): Promise<EmbeddedDynamoDb> {
  if (options.dataDir !== undefined) {
    mkdirSync(options.dataDir, { recursive: true });
    refuseStoreWithoutCurrent(options.dataDir);
  }
  const supervisor = new StorageSupervisor(options);
  const port = await supervisor.start(options.port ?? 0);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    health: () => supervisor.health(),
    stats: (options) => supervisor.stats(options?.collect ?? false),
    close: () => supervisor.close(),
  };
}

/**
 * LevelDB treats a directory without `CURRENT` as a new database and deletes the table files it does not
 * know: a lost `CURRENT` would silently empty the store. Refuse instead, and say how to recover.
 */
function refuseStoreWithoutCurrent(dataDir: string): void {
  const names = readdirSync(dataDir);
  if (names.includes('CURRENT')) return;
  const storeFiles = names.filter((name) => /^(\d+\.(ldb|sst|log)|MANIFEST-\d+)$/.test(name));
  if (storeFiles.length === 0) return;
  throw new EmbeddedStorageError(
    `The data directory ${dataDir} holds LevelDB files (${storeFiles.slice(0, 3).join(', ')}` +
      `${storeFiles.length > 3 ? ', …' : ''}) but no CURRENT file: opening it would start an empty store ` +
      'and delete them, so it was not opened and nothing was changed. Restore the directory from a backup, ' +
      'or rebuild CURRENT from the files (docs/operations.md, "Embedded storage").',
  );
}

/** Runs the worker, answers requests to it, and restarts it on the same port when it stops on its own. */
class StorageSupervisor {
  private worker: Worker | undefined;
  private port = 0;
  private nextId = 0;
  /** Health and stats requests waiting for the worker's answer, by id. */
  private readonly waiting = new Map<
    number,
    { resolve: (message: WorkerMessage) => void; reject: (error: Error) => void }
  >();
  private stopped: { reason: string; since: string } | undefined;
  private closing = false;
  private restarts = 0;

  constructor(private readonly options: EmbeddedDynamoDbOptions) {}

  async start(port: number): Promise<number> {
    const { worker, port: listening } = await this.spawn(port);
    this.port = listening;
    this.adopt(worker);
    return listening;
  }

  async health(): Promise<StorageHealth> {
    if (this.stopped !== undefined) {
      return {
        status: 'unhealthy',
        detail: `The embedded storage stopped at ${this.stopped.since} (${this.stopped.reason}) and is restarting.`,
      };
    }
    let answer: WorkerMessage;
    try {
      answer = await this.ask({ type: 'health' });
    } catch (error) {
      return { status: 'unhealthy', detail: `The embedded storage does not answer: ${messageOf(error)}` };
    }
    if (answer.type !== 'health' || answer.fault === undefined) return { status: 'ok' };
    return { status: 'unhealthy', detail: describeFault(answer.fault) };
  }

  async stats(collect: boolean): Promise<StorageWorkerStats> {
    const answer = await this.ask({ type: 'stats', collect });
    if (answer.type !== 'stats') throw new Error(`embedded DynamoDB answered ${answer.type} to stats`);
    const { heapUsed, heapTotal, openIterators } = answer;
    return { heapUsed, heapTotal, openIterators, restarts: this.restarts };
  }

  async close(): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    // A worker that died has nothing left to close; a restart under way sees `closing` and stops.
    if (worker === undefined || this.stopped !== undefined) return;
    const closed = nextMessage(worker, (message) => message.type === 'closed');
    worker.postMessage({ type: 'close' });
    const outcome = await closed.catch((error: unknown) => ({
      type: 'closed' as const,
      message: messageOf(error),
    }));
    await worker.terminate();
    if (outcome.type === 'closed' && outcome.message !== undefined) throw new Error(outcome.message);
  }

  private async spawn(port: number): Promise<{ worker: Worker; port: number }> {
    const worker = new Worker(workerFile, {
      workerData: {
        dynalite: createRequire(import.meta.url).resolve('dynalite'),
        port,
        sync: this.options.sync ?? true,
        options: {
          createTableMs: 0,
          deleteTableMs: 0,
          updateTableMs: 0,
          ...(this.options.dataDir === undefined ? {} : { path: this.options.dataDir }),
        },
      },
    });
    let started: WorkerMessage;
    try {
      started = await nextMessage(
        worker,
        (message) => message.type === 'listening' || message.type === 'error',
      );
    } catch (error) {
      await worker.terminate();
      throw new EmbeddedStorageError(`The embedded DynamoDB did not start: ${messageOf(error)}`, {
        cause: error,
      });
    }
    if (started.type !== 'listening') {
      await worker.terminate();
      const reason = started.type === 'error' ? started.message : started.type;
      throw new EmbeddedStorageError(
        this.options.dataDir === undefined
          ? `The embedded DynamoDB did not start: ${reason}`
          : `The embedded DynamoDB could not open ${this.options.dataDir}: ${reason}`,
      );
    }
    return { worker, port: started.port };
  }

  /** Makes `worker` the one that answers, and watches it. */
  private adopt(worker: Worker): void {
    this.worker = worker;
    this.stopped = undefined;
    worker.on('message', (raw: unknown) => {
      const parsed = workerMessageSchema.safeParse(raw);
      if (!parsed.success) {
        this.options.logger?.error('embedded storage worker sent an unknown message', {
          issues: parsed.error.issues,
        });
        return;
      }
      const message = parsed.data;
      if (message.type === 'fault') {
        const { kind, action, message: error, since } = message.fault;
        this.options.logger?.error('embedded storage fault', { kind, action, error, since });
      } else if (message.type === 'health' || message.type === 'stats') {
        this.waiting.get(message.id)?.resolve(message);
        this.waiting.delete(message.id);
      }
    });
    // An uncaught error ends the worker; without a listener it would end this process too.
    worker.on('error', (error) => {
      this.options.logger?.error('embedded storage worker failed', { error });
    });
    worker.on('exit', (code) => {
      for (const { reject } of this.waiting.values()) reject(new Error(`its worker exited with ${code}`));
      this.waiting.clear();
      if (this.closing || this.worker !== worker) return;
      this.stopped = { reason: `its worker exited with ${code}`, since: new Date().toISOString() };
      this.options.logger?.error('embedded storage worker exited; restarting it', { code, port: this.port });
      void this.restart();
    });
  }

  private async restart(): Promise<void> {
    for (let attempt = 1; !this.closing; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(maxRestartDelayMs, 100 * 2 ** attempt)));
      if (this.closing) return;
      try {
        const { worker } = await this.spawn(this.port);
        if (this.closing) {
          await worker.terminate();
          return;
        }
        this.adopt(worker);
        this.restarts++;
        this.options.logger?.warn('embedded storage worker restarted', { attempt, port: this.port });
        return;
      } catch (error) {
        this.options.logger?.error('embedded storage worker did not restart', { attempt, error });
      }
    }
  }

  private ask(request: { type: 'health' } | { type: 'stats'; collect: boolean }): Promise<WorkerMessage> {
    const worker = this.worker;
    if (worker === undefined) return Promise.reject(new Error('the storage worker is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no answer to ${request.type} within ${answerTimeoutMs} ms`));
      }, answerTimeoutMs);
      this.waiting.set(id, {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      worker.postMessage({ ...request, id });
    });
  }
}

function describeFault(fault: Fault): string {
  const at = `${fault.since} (${fault.action}: ${fault.message})`;
  if (fault.kind === 'write') {
    return (
      `A write to the embedded storage failed at ${at}; writes are refused until the control plane ` +
      'restarts. Free disk space, then restart it.'
    );
  }
  if (fault.kind === 'damaged') {
    return (
      `The embedded storage found a damaged file at ${at}; what that file holds cannot be read. Restore ` +
      'the data directory from a backup or repair it (docs/operations.md, "Embedded storage").'
    );
  }
  return `A read from the embedded storage failed at ${at}.`;
}

/** The worker's next message that `accept`s, or a rejection if it fails or exits first. */
function nextMessage(worker: Worker, accept: (message: WorkerMessage) => boolean): Promise<WorkerMessage> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (raw: unknown) => {
      const parsed = workerMessageSchema.safeParse(raw);
      if (!parsed.success || !accept(parsed.data)) return;
      const message = parsed.data;
      cleanup();
      resolve(message);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`its worker exited with ${code}`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
