import { closeSync, mkdirSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { LogLine } from '../../ports/run-logs.js';

/**
 * Captured output of local tasks, one file per run (or service), as lines `{ISO time} {tag} {text}`:
 * `out` and `err` are the process's streams, `dk` a note from the runner, `meta` the segment header.
 *
 * The file is bounded: when the current segment reaches half of `maxBytes` it becomes `{file}.1` (replacing
 * the previous one) and a new segment starts, so at most `maxBytes` are kept and the newest output always
 * is. Tails are what is read, and the end of the output (the error) matters more than its start.
 */

/** Default bound of a run's captured output. */
export const defaultMaxOutputBytes = 8 * 1024 * 1024;

/** A line longer than this is split, so one endless line cannot grow memory. */
const maxLineChars = 64 * 1024;

const segmentHeader = /^\S+ meta segment=(\d+)$/;

/** Marker a tail starts with when older output was dropped to keep the bound. */
export const droppedOutputMessage = '[datakit] earlier output was dropped: only the newest output is kept';

type Tag = 'out' | 'err' | 'dk';

/** Appends the output of one or more processes to a bounded log file; synchronous, so lines never interleave. */
export class OutputCapture {
  private fd: number;
  private size: number;
  private segment: number;
  /** Set when the file could not be written (disk full...): capture stops, the task and the control plane go on. */
  private failed = false;

  private constructor(
    private readonly file: string,
    private readonly maxBytes: number,
    private readonly clock: () => Date,
    append: boolean,
  ) {
    mkdirSync(dirname(file), { recursive: true });
    const existing = append ? readSegmentNumber(file) : undefined;
    if (existing === undefined) {
      this.fd = openSync(file, 'w');
      this.size = 0;
      this.segment = 1;
      this.write('meta', 'segment=1');
    } else {
      this.fd = openSync(file, 'a');
      this.size = statSync(file).size;
      this.segment = existing;
    }
  }

  /** Starts a fresh file (a run's output). */
  static create(file: string, maxBytes = defaultMaxOutputBytes, clock: () => Date = () => new Date()) {
    return new OutputCapture(file, maxBytes, clock, false);
  }

  /** Continues an existing file, or starts one (a service's output across restarts). */
  static append(file: string, maxBytes = defaultMaxOutputBytes, clock: () => Date = () => new Date()) {
    return new OutputCapture(file, maxBytes, clock, true);
  }

  /** A writer for one stream of one process; call `end()` once the stream closed to flush a last partial line. */
  stream(tag: 'out' | 'err', prefix = ''): { write: (chunk: Buffer) => void; end: () => void } {
    const decoder = new StringDecoder('utf8');
    let pending = '';
    const emit = (text: string) => {
      pending += text;
      let newline = pending.indexOf('\n');
      while (newline !== -1 || pending.length > maxLineChars) {
        const cut = newline === -1 ? maxLineChars : newline;
        this.write(tag, prefix + pending.slice(0, cut).replace(/\r$/, ''));
        pending = pending.slice(newline === -1 ? cut : cut + 1);
        newline = pending.indexOf('\n');
      }
    };
    return {
      write: (chunk) => emit(decoder.write(chunk)),
      end: () => {
        emit(decoder.end());
        if (pending !== '') this.write(tag, prefix + pending);
        pending = '';
      },
    };
  }

  /** A line from the runner itself (what it started, why it stopped something). */
  note(message: string): void {
    this.write('dk', message);
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // Already closed by a failed rotation.
    }
  }

  private write(tag: Tag | 'meta', text: string): void {
    if (this.failed) return;
    const line = `${this.clock().toISOString()} ${tag} ${text}\n`;
    const bytes = Buffer.byteLength(line);
    try {
      if (tag !== 'meta' && this.size + bytes > this.maxBytes / 2) this.rotate();
      writeSync(this.fd, line);
      this.size += bytes;
    } catch {
      // Called from a child's stdout handler: a throw here would take the whole control plane down.
      this.failed = true;
    }
  }

  private rotate(): void {
    closeSync(this.fd);
    renameSync(this.file, `${this.file}.1`);
    this.fd = openSync(this.file, 'w');
    this.size = 0;
    this.segment += 1;
    this.write('meta', `segment=${this.segment}`);
  }
}

/** The last `limit` lines of a capture, oldest first (both segments when the newest alone is too short). */
export async function readOutputTail(file: string, limit: number): Promise<LogLine[]> {
  if (limit <= 0) return [];
  const current = await readSegment(file);
  if (current === undefined) return [];
  let lines = current.lines;
  let oldest = current.segment;
  if (lines.length < limit && current.segment > 1) {
    const previous = await readSegment(`${file}.1`);
    if (previous !== undefined && previous.segment === current.segment - 1) {
      lines = [...previous.lines, ...lines];
      oldest = previous.segment;
    }
  }
  if (oldest > 1) lines = [{ stream: 'combined', message: droppedOutputMessage }, ...lines];
  return lines.slice(-limit);
}

async function readSegment(file: string): Promise<{ segment: number; lines: LogLine[] } | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
    throw error;
  }
  let segment = 1;
  const lines: LogLine[] = [];
  for (const raw of text.split('\n')) {
    const header = segmentHeader.exec(raw);
    if (header?.[1] !== undefined) {
      segment = Number(header[1]);
      continue;
    }
    const line = parseLine(raw);
    if (line !== undefined) lines.push(line);
  }
  return { segment, lines };
}

function parseLine(raw: string): LogLine | undefined {
  const first = raw.indexOf(' ');
  const second = raw.indexOf(' ', first + 1);
  if (first === -1 || second === -1) return undefined;
  const at = raw.slice(0, first);
  const tag = raw.slice(first + 1, second);
  const message = raw.slice(second + 1);
  if (tag === 'out') return { at, stream: 'stdout', message };
  if (tag === 'err') return { at, stream: 'stderr', message };
  if (tag === 'dk') return { at, stream: 'combined', message: `[datakit] ${message}` };
  return undefined;
}

/** The segment number of an existing capture file, from its header line; undefined when there is none. */
function readSegmentNumber(file: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const head = Buffer.alloc(64);
    const read = readSync(fd, head, 0, head.length, 0);
    const firstLine = head.subarray(0, read).toString('utf8').split('\n')[0] ?? '';
    const match = segmentHeader.exec(firstLine);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  } finally {
    closeSync(fd);
  }
}
