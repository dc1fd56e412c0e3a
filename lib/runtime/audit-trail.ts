import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AuditOutcome } from '../contracts/api/access.js';
import { anonymousPrincipal, type Caller, callerFor, personOf } from '../domain/identity/principal.js';
import type { AuditLog, AuditRecord, AuditStore, StoredAuditRecord } from '../ports/audit-log.js';
import type { EventPublisher } from '../ports/event-publisher.js';

/** Largest `before`, `after` or `effects` kept as it is (JSON bytes); larger ones become their digest. */
export const maxAuditValueBytes = 16 * 1024;

/** `MetricUnit.Count`, spelled out so Powertools Metrics is not loaded at init (ADR 0012). */
const count: (typeof MetricUnit)['Count'] = 'Count';

/** What the operation of a request says about the state it changed: the record's before → after. */
export interface AuditChange {
  /** Overrides the route's target (`package:{ns}/{name}`, `run:{id}`, …) once the operation knows it. */
  readonly target?: string;
  /** The namespace, when only the operation knows it (a registration's package). */
  readonly namespace?: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/** The API request a record is written for: known when it arrives; caller, namespace, target as they are learnt. */
export interface RequestAuditInit {
  readonly requestId: string;
  readonly at: string;
  readonly method: string;
  readonly path: string;
  readonly action: string;
  readonly target: string;
}

/** Entries of the domain folded into the request's record, and whether the request still runs. */
interface Scope {
  readonly request: RequestAudit;
  open: boolean;
}

/**
 * The request whose operation is running in this async context. Entries its use cases append by the
 * same actor become part of its record instead of records of their own (ADR 0018).
 */
const currentRequest = new AsyncLocalStorage<Scope>();

/**
 * One API request's record (ADR 0018): the HTTP layer writes exactly one per mutating request, whatever
 * its outcome, with the caller, the namespace and target, before → after, and what the use cases recorded
 * on the way.
 */
export class RequestAudit {
  caller: Caller = callerFor(anonymousPrincipal);
  namespace: string | undefined;
  target: string;
  readonly effects: { action: string; target: string; details: unknown }[] = [];
  private written = false;

  constructor(
    private readonly trail: AuditTrail,
    readonly init: RequestAuditInit,
  ) {
    this.target = init.target;
  }

  /** Runs the operation with this request as the current one, so its use cases' entries join the record. */
  async run<T>(operation: () => Promise<T>): Promise<T> {
    const scope: Scope = { request: this, open: true };
    try {
      return await currentRequest.run(scope, operation);
    } finally {
      // Work the request left running (an in-process pipeline) records on its own from now on.
      scope.open = false;
    }
  }

  /**
   * Writes the record once: `status` decides the outcome (2xx succeeded, 4xx refused, 5xx failed). A
   * record that cannot be written is logged whole at ERROR (and counted): the answer stands, since the
   * change it describes has happened.
   */
  async finish(status: number, change: AuditChange = {}, code?: string): Promise<void> {
    if (this.written) return;
    this.written = true;
    const outcome: AuditOutcome = status < 400 ? 'succeeded' : status < 500 ? 'refused' : 'failed';
    const namespace = change.namespace ?? this.namespace;
    const record: StoredAuditRecord = {
      id: this.init.requestId,
      at: this.init.at,
      action: this.init.action,
      principal: this.caller.principal,
      person: this.caller.person,
      ...(namespace === undefined ? {} : { namespace }),
      target: change.target ?? this.target,
      outcome,
      requestId: this.init.requestId,
      request: { method: this.init.method, path: this.init.path, status },
      ...(code === undefined ? {} : { code }),
      ...(change.before === undefined ? {} : { before: bounded(change.before) }),
      ...(change.after === undefined ? {} : { after: bounded(change.after) }),
      ...(this.effects.length === 0 ? {} : { effects: boundedEffects(this.effects) }),
    };
    try {
      await this.trail.write(record);
    } catch (error) {
      this.trail.failed(record, error);
    }
  }
}

export interface AuditTrailDependencies {
  readonly store: AuditStore;
  /** Where a record that could not be written goes, whole. */
  readonly logger: Pick<Logger, 'error'>;
  readonly metrics?: Metrics | undefined;
  /** Where every record is copied as an `Audit Record` event (the bus and its archive). */
  readonly publisher?: EventPublisher | undefined;
}

/**
 * The audit trail of a process: use cases append entries (`AuditLog`), the HTTP layer opens one
 * `RequestAudit` per mutating request, and every record is written to the table and copied to the bus.
 */
export class AuditTrail implements AuditLog {
  constructor(private readonly deps: AuditTrailDependencies) {}

  /** The same trail, also copying every record to this bus (wired once the function has one). */
  withPublisher(publisher: EventPublisher): AuditTrail {
    return new AuditTrail({ ...this.deps, publisher });
  }

  /** The record of one API request, written by `finish`. */
  request(init: RequestAuditInit): RequestAudit {
    return new RequestAudit(this, init);
  }

  async append(entry: AuditRecord): Promise<void> {
    const scope = currentRequest.getStore();
    if (scope?.open === true && scope.request.caller.principal === entry.actor) {
      scope.request.effects.push({ action: entry.action, target: entry.subject, details: entry.details });
      return;
    }
    const namespace = namespaceOf(entry.subject);
    await this.write({
      id: entry.id,
      at: entry.at,
      action: entry.action,
      principal: entry.actor,
      person: personOf(entry.actor),
      ...(namespace === undefined ? {} : { namespace }),
      target: entry.subject,
      outcome: entry.outcome ?? 'succeeded',
      details: bounded(entry.details),
    });
  }

  /** Writes a record to the table (once per key) and copies it to the bus. */
  async write(record: StoredAuditRecord): Promise<void> {
    const publisher = this.deps.publisher;
    await Promise.all([
      this.deps.store.write(record),
      publisher?.publish([{ detailType: 'Audit Record', detail: record, time: new Date(record.at) }]),
    ]);
  }

  /** A request's record that could not be written: logged whole, so it is not lost, and counted. */
  failed(record: StoredAuditRecord, error: unknown): void {
    this.deps.logger.error('audit record not written', { record, error });
    this.deps.metrics?.addMetric('AuditWriteFailed', count, 1);
  }
}

/** The namespace of a `package:{ns}/{name}` or `dataset:{ns}/{name}` subject. */
function namespaceOf(subject: string): string | undefined {
  const match = /^(?:package|dataset):([^/]+)\//u.exec(subject);
  return match?.[1];
}

/** The value, or its digest when its JSON is over `maxAuditValueBytes`, so records stay small. */
function bounded<T extends object>(value: T): T | Digest;
function bounded(value: unknown): unknown;
function bounded(value: unknown): unknown {
  const json = JSON.stringify(value) ?? 'null';
  const bytes = Buffer.byteLength(json, 'utf8');
  return bytes <= maxAuditValueBytes ? value : digestOf(json, bytes);
}

/** What stands for a value too large to keep. */
type Digest = { readonly truncated: true; readonly bytes: number; readonly sha256: string };

function digestOf(json: string, bytes: number): Digest {
  return { truncated: true, bytes, sha256: createHash('sha256').update(json, 'utf8').digest('hex') };
}

/** The effects, each kept whole or, when together they are too large, with their details as digests. */
function boundedEffects(
  effects: readonly { action: string; target: string; details: unknown }[],
): { action: string; target: string; details: unknown }[] {
  const json = JSON.stringify(effects);
  if (Buffer.byteLength(json, 'utf8') <= maxAuditValueBytes) return [...effects];
  return effects.map((effect) => {
    const details = JSON.stringify(effect.details) ?? 'null';
    return { ...effect, details: digestOf(details, Buffer.byteLength(details, 'utf8')) };
  });
}
