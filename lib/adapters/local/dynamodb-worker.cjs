'use strict';
/**
 * The embedded DynamoDB's worker thread: dynalite on a LevelDB store, started by
 * `dynamodb-server.ts`. Plain CommonJS, because dynalite is and a worker thread runs JavaScript as is.
 *
 * Three corrections to dynalite 4.0.0 are made here, at load time and only in this thread (a worker
 * has its own module registry), because dynalite exposes no seam for them (docs/adr, "Embedded storage
 * faults"):
 * - Its streams close a LevelDB iterator with `iterator.return()`, which abstract-level 3 iterators do
 *   not have, so every Query and Scan left a native iterator (and the LevelDB snapshot it pins) open
 *   until the database closed: the store's iterators get a `return()` that closes them.
 * - It throws storage errors (a full disk, a damaged table file) out of a callback, which ends the
 *   thread: each action is wrapped so such an error answers that request with a 500
 *   InternalServerError, and is recorded as the store's fault for `/healthz`.
 * - It throws a request's 'error' (the client hung up mid-request) too: the worker answers it by
 *   dropping that response.
 * - It opens LevelDB lazily, so a store that cannot open failed on the first request: the store is
 *   opened before the server listens, and a failure is reported to the parent instead.
 */
const { readdirSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { parentPort, workerData } = require('node:worker_threads');
const { getHeapStatistics, setFlagsFromString } = require('node:v8');
const { runInNewContext } = require('node:vm');

const fromDynalite = createRequire(workerData.dynalite);

/** Actions that write: after a failed write they are refused until the store is reopened. */
const writeActions = new Set([
  'batchWriteItem',
  'createTable',
  'deleteItem',
  'deleteTable',
  'putItem',
  'tagResource',
  'untagResource',
  'updateItem',
  'updateTable',
]);

/** The first storage failure since the store opened, as `/healthz` reports it. */
let fault;
/** The iterators handed to dynalite and not yet closed, with the promise of a close under way. */
const openIterators = new Map();
/** The store dynalite opened (captured by the subclasses below). */
let store;

function closable(iterator) {
  openIterators.set(iterator, undefined);
  const close = iterator.close.bind(iterator);
  iterator.close = () => {
    const closing = close().finally(() => openIterators.delete(iterator));
    openIterators.set(iterator, closing);
    return closing;
  };
  // dynalite's streams end an iterator the way the async-iterator protocol does.
  iterator.return = () => iterator.close().then(() => ({ done: true, value: undefined }));
  return iterator;
}

/** The store classes dynalite will construct, so the worker holds the instance and closes its iterators. */
function tracked(Base, sync) {
  return class TrackedStore extends Base {
    constructor(...args) {
      super(...args);
      store = this;
    }
    keys(options) {
      return closable(super.keys(options));
    }
    values(options) {
      return closable(super.values(options));
    }
    put(key, value, options) {
      return super.put(key, value, sync ? { sync: true, ...options } : options);
    }
    del(key, options) {
      return super.del(key, sync ? { sync: true, ...options } : options);
    }
    batch(operations, options) {
      // Without operations it is the chained form, whose write() takes the options: dynalite never uses it.
      if (operations === undefined) return super.batch();
      return super.batch(operations, sync ? { sync: true, ...options } : options);
    }
  };
}

const level = fromDynalite('level');
level.Level = tracked(level.Level, workerData.sync === true);
const memoryLevel = fromDynalite('memory-level');
memoryLevel.MemoryLevel = tracked(memoryLevel.MemoryLevel, false);

function describe(error) {
  return error instanceof Error ? error.message : String(error);
}

function internalError(message) {
  return Object.assign(new Error(message), {
    statusCode: 500,
    body: { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message },
  });
}

/**
 * A failed write may have left a torn record in LevelDB's log, after which further appends are not
 * safe until the store is reopened; a damaged file (corruption) or a failed read leaves writes safe.
 */
function faultKind(action, error) {
  if (error?.code === 'LEVEL_CORRUPTION') return 'damaged';
  return writeActions.has(action) ? 'write' : 'read';
}

function recordFault(action, error) {
  const kind = faultKind(action, error);
  // The first fault is kept, unless a write fails after another fault: that one also refuses writes.
  if (fault !== undefined && (fault.kind === 'write' || kind !== 'write')) return;
  fault = {
    kind,
    action,
    message: describe(error),
    since: new Date().toISOString(),
  };
  parentPort.postMessage({ type: 'fault', fault });
}

/** An action that answers a storage error as a 500 instead of letting dynalite throw it. */
function guarded(name, action) {
  return function guardedAction(store, data, callback) {
    if (fault?.kind === 'write' && writeActions.has(name)) {
      callback(internalError(`Writes are refused since a write failed: ${fault.message}`));
      return;
    }
    let answered = false;
    const answer = (error, result) => {
      if (answered) return;
      answered = true;
      if (error && !error.statusCode) {
        recordFault(name, error);
        callback(internalError(`Storage failure: ${describe(error)}`));
        return;
      }
      callback(error, result);
    };
    try {
      action(store, data, answer);
    } catch (error) {
      answer(error);
    }
  };
}

const actionsDir = join(dirname(workerData.dynalite), 'actions');
for (const file of readdirSync(actionsDir)) {
  if (!file.endsWith('.js')) continue;
  const path = join(actionsDir, file);
  const action = require(path);
  require.cache[path].exports = guarded(file.slice(0, -3), action);
}

const dynalite = require(workerData.dynalite);

/** V8's collector, exposed on demand: heap figures after a full collection compare across runs. */
function collectGarbage() {
  setFlagsFromString('--expose-gc');
  runInNewContext('gc')();
}

async function stats(collect) {
  await Promise.allSettled([...openIterators.values()]);
  if (collect) collectGarbage();
  const heap = getHeapStatistics();
  return {
    heapUsed: heap.used_heap_size,
    heapTotal: heap.total_heap_size,
    openIterators: openIterators.size,
  };
}

async function start() {
  const server = dynalite(workerData.options);
  if (store === undefined) throw new Error('dynalite did not construct its store');
  try {
    await store.open();
  } catch (error) {
    // The cause names the LevelDB problem (a lock held by another process, a damaged MANIFEST, ...).
    const cause = error?.cause instanceof Error ? `: ${error.cause.message}` : '';
    parentPort.postMessage({ type: 'error', message: `${describe(error)}${cause}` });
    return;
  }
  // dynalite's request handler throws a request's 'error'; a client gone mid-request only loses its answer.
  const [handle] = server.listeners('request');
  server.removeAllListeners('request');
  server.on('request', (request, response) => {
    const on = request.on;
    request.on = function onRequestEvent(event, listener) {
      return on.call(this, event, event === 'error' ? () => response.destroy() : listener);
    };
    handle(request, response);
  });
  server.once('error', (error) => parentPort.postMessage({ type: 'error', message: describe(error) }));
  server.listen(workerData.port, '127.0.0.1', () =>
    parentPort.postMessage({ type: 'listening', port: server.address().port }),
  );
  parentPort.on('message', (message) => {
    if (message?.type === 'stats') {
      stats(message.collect === true).then((value) =>
        parentPort.postMessage({ type: 'stats', id: message.id, ...value }),
      );
    } else if (message?.type === 'health') {
      parentPort.postMessage({ type: 'health', id: message.id, ...(fault === undefined ? {} : { fault }) });
    } else if (message?.type === 'close') {
      server.closeAllConnections();
      server.close((error) =>
        parentPort.postMessage({ type: 'closed', ...(error ? { message: describe(error) } : {}) }),
      );
    }
  });
}

start().catch((error) => parentPort.postMessage({ type: 'error', message: describe(error) }));
