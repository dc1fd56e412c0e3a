import type { EventType } from '../../contracts/openlineage/events.js';
import type { RunState, RunStateName } from './model.js';

/** What `applyRunEvent` needs of an event: its transition, its normalised time, and its run facets. */
export interface RunEventInput {
  eventType?: EventType;
  /** UTC ISO string with milliseconds, as `parseLineageEvent` produces. */
  eventTime: string;
  facets?: Record<string, unknown>;
}

type TerminalEvent = 'COMPLETE' | 'FAIL' | 'ABORT';

const TERMINAL_STATE: Record<TerminalEvent, RunStateName> = {
  COMPLETE: 'COMPLETED',
  FAIL: 'FAILED',
  ABORT: 'ABORTED',
};

// When two terminal events carry the same eventTime, the more pessimistic outcome wins, so the result does
// not depend on which one arrived first.
const TERMINAL_RANK: Record<TerminalEvent, number> = { COMPLETE: 0, ABORT: 1, FAIL: 2 };

function isTerminal(eventType: EventType | undefined): eventType is TerminalEvent {
  return eventType === 'COMPLETE' || eventType === 'FAIL' || eventType === 'ABORT';
}

function earlier(a: string | undefined, b: string): string {
  return a === undefined || b < a ? b : a;
}

function later(a: string | undefined, b: string): string {
  return a === undefined || b > a ? b : a;
}

function supersedes(event: TerminalEvent, time: string, current: RunState): boolean {
  if (current.terminalEvent === undefined || current.endedAt === undefined) return true;
  if (time !== current.endedAt) return time > current.endedAt;
  return TERMINAL_RANK[event] > TERMINAL_RANK[current.terminalEvent];
}

/**
 * Folds one event into a run's state, tolerating any arrival order (delivery is at-least-once, unordered):
 * START/RUNNING make a NEW run RUNNING; COMPLETE/FAIL/ABORT are terminal and never undone by a late
 * START/RUNNING (between terminal events the later-dated wins); `startedAt` is the earliest START, even one
 * arriving after the terminal event; OTHER or no eventType only merges facets.
 */
export function applyRunEvent(current: RunState | undefined, event: RunEventInput): RunState {
  const time = event.eventTime;
  const next: RunState = current
    ? { ...current }
    : { state: 'NEW', createdAt: time, updatedAt: time, facets: {}, facetTimes: {} };
  next.createdAt = earlier(next.createdAt, time);
  next.updatedAt = later(next.updatedAt, time);

  // Facet names are the producer's: Maps, so `constructor` or `__proto__` is a name like any other
  // (on a plain object it would read, or set, the prototype).
  const facets = new Map(Object.entries(next.facets));
  const facetTimes = new Map(Object.entries(next.facetTimes));
  for (const [name, facet] of Object.entries(event.facets ?? {})) {
    const takenAt = facetTimes.get(name);
    if (takenAt === undefined || time >= takenAt) {
      facets.set(name, facet);
      facetTimes.set(name, time);
    }
  }
  next.facets = Object.fromEntries(facets);
  next.facetTimes = Object.fromEntries(facetTimes);

  const eventType = event.eventType;
  if (eventType === 'START') next.startedAt = earlier(next.startedAt, time);
  if (isTerminal(eventType)) {
    if (supersedes(eventType, time, next)) {
      next.terminalEvent = eventType;
      next.endedAt = time;
      next.state = TERMINAL_STATE[eventType];
    }
  } else if ((eventType === 'START' || eventType === 'RUNNING') && next.state === 'NEW') {
    next.state = 'RUNNING';
  }
  return next;
}

/** Milliseconds between start and end of a finished run; `undefined` while either is unknown. */
export function runDurationMs(run: Pick<RunState, 'startedAt' | 'endedAt'>): number | undefined {
  if (run.startedAt === undefined || run.endedAt === undefined) return undefined;
  return Date.parse(run.endedAt) - Date.parse(run.startedAt);
}
