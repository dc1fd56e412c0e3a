import { existsSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { type Browser, launch, type Page } from 'puppeteer-core';
import { nameUuidFromText } from '../../lib/contracts/openlineage/run-id.js';

// The Marquez web UI (a production build in the reference material) served as upstream serves it: its
// static files, `index.html` for every deep link, and `/api/` proxied to the API under test. Marquez's own
// demo metadata is loaded through `POST /api/v1/lineage`, times filled in as its demo seed script does.

/** A running static server with its proxy. */
export interface UiServer {
  readonly url: string;
  close(): Promise<void>;
}

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.css': 'text/css',
};

/** Serves `uiDir` (deep links answer `index.html`) and proxies `/api/` to `apiUrl`, on a free loopback port. */
export async function serveMarquezUi(uiDir: string, apiUrl: string): Promise<UiServer> {
  const root = resolve(uiDir);
  const api = new URL(apiUrl);
  const server = createServer((incoming, outgoing) => {
    const path = new URL(incoming.url ?? '/', 'http://ui').pathname;
    if (path.startsWith('/api/')) {
      const upstream = request(
        {
          host: api.hostname,
          port: api.port,
          method: incoming.method,
          path: incoming.url,
          headers: { ...incoming.headers, host: api.host },
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      upstream.on('error', (error) => {
        outgoing.writeHead(502, { 'content-type': 'text/plain' });
        outgoing.end(String(error));
      });
      incoming.pipe(upstream);
      return;
    }
    void (async () => {
      let file = normalize(join(root, decodeURIComponent(path)));
      const inside = file.startsWith(root + sep);
      const isFile =
        inside &&
        (await stat(file).then(
          (s) => s.isFile(),
          () => false,
        ));
      if (!isFile) file = join(root, 'index.html');
      outgoing.writeHead(200, {
        'content-type': contentTypes[extname(file)] ?? 'application/octet-stream',
        // The bundle is 11 MB: each page of the test loads it from the cache.
        'cache-control': file.endsWith('index.html') ? 'no-cache' : 'max-age=3600',
      });
      outgoing.end(await readFile(file));
    })().catch((error: unknown) => {
      outgoing.writeHead(500);
      outgoing.end(String(error));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** ISO time as Marquez's seed script writes it (`date -u +%Y-%m-%dT%H:%M:%S.000Z`). */
function seedTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString();
}

/**
 * Marquez's demo metadata (`docker/metadata.template.json`) with its times filled in as
 * `docker/seed.sh` fills them: runs start at `start` and end 5 to 10 minutes later. `runIdsFrom` gives
 * the runs new ids (a second day of the same jobs); by default they keep the template's.
 */
export function demoEvents(templatePath: string, start: Date, runIdsFrom?: string): unknown[] {
  let text = readFileSync(templatePath, 'utf8').replaceAll('{{RUN_START_TIME}}', seedTime(start.getTime()));
  for (const minutes of [5, 6, 7, 8, 9, 10]) {
    text = text.replaceAll(
      `{{RUN_END_TIME_AFTER_${minutes}_MINUTES}}`,
      seedTime(start.getTime() + minutes * 60_000),
    );
  }
  const events: unknown[] = JSON.parse(text);
  if (runIdsFrom === undefined) return events;
  return events.map((event) => {
    if (typeof event !== 'object' || event === null || !('run' in event)) return event;
    const run = event.run;
    if (typeof run !== 'object' || run === null || !('runId' in run) || typeof run.runId !== 'string')
      return event;
    return { ...event, run: { ...run, runId: nameUuidFromText(`${runIdsFrom}:${run.runId}`) } };
  });
}

/** Posts events one by one to `POST /api/v1/lineage`, as Marquez's seed command does. */
export async function postLineage(apiUrl: string, events: readonly unknown[]): Promise<void> {
  for (const event of events) {
    const response = await fetch(`${apiUrl}/api/v1/lineage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    if (response.status !== 201) {
      throw new Error(`POST /api/v1/lineage answered ${response.status}: ${await response.text()}`);
    }
  }
}

/** Debian's Chromium (`apt-get install chromium`), or `CHROMIUM_PATH`. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(`Chromium not found at ${path}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  return path;
}

/** A headless Chromium, as these machines can run it (no sandbox, no GPU, a small /dev/shm). */
export function launchChromium(): Promise<Browser> {
  return launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/** What went wrong on a page: uncaught errors, and `/api/` requests that failed or answered an error. */
export interface PageProblems {
  readonly errors: string[];
  readonly failedRequests: string[];
  /** Every `/api/` request answered, `METHOD path?query status`. */
  readonly apiCalls: string[];
}

/** Records page errors and every `/api/` answer of a page from now on. */
export function watchPage(page: Page): PageProblems {
  const problems: PageProblems = { errors: [], failedRequests: [], apiCalls: [] };
  page.on('pageerror', (error) => {
    problems.errors.push(error instanceof Error ? error.message : String(error));
  });
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (!url.pathname.startsWith('/api/')) return;
    const call = `${response.request().method()} ${url.pathname}${url.search} ${response.status()}`;
    problems.apiCalls.push(call);
    if (response.status() >= 400) problems.failedRequests.push(call);
  });
  page.on('requestfailed', (failed) => {
    const url = new URL(failed.url());
    if (url.pathname.startsWith('/api/')) {
      problems.failedRequests.push(
        `${failed.method()} ${url.pathname}${url.search} ${failed.failure()?.errorText}`,
      );
    }
  });
  return problems;
}
