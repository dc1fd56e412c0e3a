import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../support/control-plane-process.js';
import {
  demoEvents,
  launchChromium,
  type PageProblems,
  postLineage,
  serveMarquezUi,
  type UiServer,
  watchPage,
} from '../support/marquez-ui.js';
import { specDir } from '../support/spec-dir.js';

// The Marquez web UI — the real one, built from Marquez's repository (../shared/marquez/web) — in Chromium
// against `npm start`, loaded with Marquez's own demo metadata through POST /api/v1/lineage. Every page and
// drawer is opened as a user would and must render real content, with no page error and no /api request
// failing. Screenshots land in .artifacts/marquez-ui/ (git-ignored) for CI to keep.

const marquez = join(specDir(), 'marquez');
const screenshots = resolve('.artifacts/marquez-ui');
const namespace = 'food_delivery';
const DAY_MS = 24 * 60 * 60 * 1000;

let plane: ControlPlaneProcess;
let ui: UiServer;
let browser: Browser;
let dataDir: string;
/** When the demo's runs started today (a second day of them started 24 hours earlier). */
let start: Date;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'datakit-marquez-ui-'));
  mkdirSync(screenshots, { recursive: true });
  // One after the other: if the second fails, afterAll still stops the first.
  plane = await startControlPlaneProcess(dataDir);
  browser = await launchChromium();
  // Today's runs end 5 to 10 minutes after they start: started a quarter of an hour ago, or at midnight
  // if that was earlier, they all fall in today (UTC, the browser's time zone here).
  const now = Date.now();
  start = new Date(Math.max(now - 15 * 60_000, Math.floor(now / DAY_MS) * DAY_MS + 1000));
  const template = join(marquez, 'demo-metadata.template.json');
  await postLineage(plane.url, demoEvents(template, new Date(start.getTime() - DAY_MS), 'yesterday'));
  await postLineage(plane.url, demoEvents(template, start));
  ui = await serveMarquezUi(join(marquez, 'web/ui'), plane.url);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await ui?.close();
  await plane?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Visit {
  readonly page: Page;
  readonly problems: PageProblems;
  /** Waits until the page shows every text (and no spinner of a request in flight). */
  shows(...texts: string[]): Promise<void>;
  /** Clicks the element with this text content (as written, before CSS casing) or matching a CSS selector. */
  click(target: { text: string } | { selector: string }): Promise<void>;
  screenshot(name: string): Promise<void>;
}

async function settle(page: Page): Promise<void> {
  await page.waitForNetworkIdle({ idleTime: 300, timeout: 15_000 });
}

/** Opens a page of the UI in a fresh tab, recording its problems. */
async function visit(path: string): Promise<Visit> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1600, height: 1000 });
  await page.emulateTimezone('UTC');
  const problems = watchPage(page);
  await page.goto(`${ui.url}${path}`, { waitUntil: 'load' });
  await settle(page);
  return {
    page,
    problems,
    shows: async (...texts) => {
      // Evaluated in the page (as text: the project's TypeScript has no DOM types).
      const shown = `document.body.innerText.replace(/\\s+/g, ' ')`;
      await page
        .waitForFunction(`${JSON.stringify(texts)}.every((text) => ${shown}.includes(text))`, {
          timeout: 15_000,
        })
        .catch(async () => {
          const text = String(await page.evaluate(`${shown}.slice(0, 2000)`));
          throw new Error(`${path} does not show ${JSON.stringify(texts)}; it shows: ${text}`);
        });
    },
    click: async (target) => {
      const locator =
        'text' in target ? page.locator(`::-p-text(${target.text})`) : page.locator(target.selector);
      await locator.setTimeout(15_000).click();
      await settle(page);
    },
    screenshot: async (name) => {
      await page.screenshot({ path: join(screenshots, `${name}.png`) });
    },
  };
}

/** No uncaught error, no failing /api request, and every request the page was expected to make made. */
function expectHealthy(visit: Visit, expectedCalls: readonly RegExp[] = []): void {
  expect(visit.problems.errors, 'page errors').toEqual([]);
  expect(visit.problems.failedRequests, 'failing /api requests').toEqual([]);
  for (const call of expectedCalls) {
    expect(
      visit.problems.apiCalls.some((made) => call.test(made)),
      `a request matching ${call} among ${JSON.stringify(visit.problems.apiCalls)}`,
    ).toBe(true);
  }
}

describe('the Marquez web UI against npm start, with Marquez’s demo data', () => {
  it('every page asks for tags and namespaces, and gets them', async () => {
    const v = await visit('/jobs');
    await v.shows('JOBS', '13 total', 'etl_orders_7_days');

    expectHealthy(v, [/^GET \/api\/v1\/tags 200$/, /^GET \/api\/v1\/namespaces 200$/]);
    await v.page.close();
  });

  it('the dashboard: run states, datasets, sources and jobs over time; jobs of every namespace; filters', async () => {
    const v = await visit('/');
    // Runs started and completed in the last 24 hours; 13 datasets, 1 source, 13 jobs; the first jobs.
    await v.shows(
      '26 EVENTS',
      'DATASETS 13',
      'SOURCES 1',
      'JOBS 13',
      'delivery_times_7_days',
      'LAST 10 RUNS',
    );
    await v.screenshot('dashboard');

    await v.click({ selector: 'button[aria-label="COMPLETED"]' });
    await v.shows('delivery_times_7_days');
    await v.click({ selector: 'button[aria-label="FAILED"]' });
    await v.shows('No jobs found');
    await v.click({ text: '7 Days' });
    await v.shows('52 EVENTS', 'JOBS 13');

    expectHealthy(v, [
      /^GET \/api\/v1\/stats\/lineage-events\?period=DAY&timezone=UTC 200$/,
      /^GET \/api\/v1\/stats\/(jobs|datasets|sources)\?period=WEEK&timezone=UTC 200$/,
      /^GET \/api\/v1\/jobs\?limit=10&offset=0 200$/,
      /^GET \/api\/v1\/jobs\?limit=10&offset=0&lastRunStates=FAILED 200$/,
    ]);
    await v.page.close();
  });

  it('the dashboard’s jobs drawer, page by page', async () => {
    const v = await visit('/');
    await v.shows('delivery_times_7_days');
    await v.click({ text: 'See More' });
    await v.shows('Jobs', '1 - 10 of 13');
    await v.click({ selector: '.MuiDrawer-paper [aria-label="Next page"] button' });
    await v.shows('11 - 13 of 13', 'orders_popular_day_of_week');
    await v.screenshot('dashboard-jobs-drawer');

    expectHealthy(v, [/^GET \/api\/v1\/jobs\?limit=10&offset=10 200$/]);
    await v.page.close();
  });

  it('jobs and datasets lists', async () => {
    const jobs = await visit('/jobs');
    await jobs.shows('13 total', 'etl_orders_7_days', 'COMPLETED');
    expectHealthy(jobs, [/^GET \/api\/v1\/namespaces\/food_delivery\/jobs\?limit=20&offset=0 200$/]);
    await jobs.page.close();

    const datasets = await visit('/datasets');
    await datasets.shows('13 total', 'public.delivery_7_days', 'food_delivery_db');
    await datasets.screenshot('datasets');
    expectHealthy(datasets, [/^GET \/api\/v1\/namespaces\/food_delivery\/datasets\?limit=20&offset=0 200$/]);
    await datasets.page.close();
  });

  it('the job drawer: latest run with its facets, run history, a run of it', async () => {
    const job = 'etl_orders_7_days';
    const v = await visit(`/lineage/job/${namespace}/${job}?tableLevelNode=job:${namespace}:${job}`);
    await v.shows(job, 'LATEST RUN', 'RUN HISTORY', 'JOB FACETS', 'INSERT INTO orders_7_days');
    await v.screenshot('job-drawer');

    await v.click({ text: 'RUN HISTORY' });
    await v.shows('COMPLETED');
    const rows = await v.page.$$eval('table tbody tr', (trs) => trs.length);
    expect(rows).toBe(2);
    await v.click({ selector: 'table tbody tr' });
    await v.shows('JOB FACETS', 'RUN FACETS', 'nominalTime');
    await v.screenshot('job-run-history');

    expectHealthy(v, [
      /^GET \/api\/v1\/namespaces\/food_delivery\/jobs\/etl_orders_7_days 200$/,
      /^GET \/api\/v1\/namespaces\/food_delivery\/jobs\/etl_orders_7_days\/runs\?limit=\d+&offset=0 200$/,
      /^GET \/api\/v1\/jobs\/runs\/[0-9a-f-]{36}\/facets\?type=job 200$/,
    ]);
    await v.page.close();
  });

  it('the dataset drawer: latest schema with quality, version history, a version of it', async () => {
    const dataset = 'public.delivery_7_days';
    const v = await visit(
      `/lineage/dataset/${namespace}/${dataset}?tableLevelNode=dataset:${namespace}:${dataset}`,
    );
    await v.shows(dataset, 'LATEST SCHEMA', 'VERSION HISTORY', 'order_placed_on');
    await v.screenshot('dataset-drawer');

    await v.click({ text: 'VERSION HISTORY' });
    await v.shows('VERSION', 'CREATED BY RUN', 'LIFECYCLE STATE');
    const rows = await v.page.$$eval('table tbody tr', (trs) => trs.length);
    expect(rows).toBe(2);
    await v.click({ selector: 'table tbody tr' });
    await v.shows('order_placed_on');
    await v.screenshot('dataset-version');

    expectHealthy(v, [
      /^GET \/api\/v1\/namespaces\/food_delivery\/datasets\/public\.delivery_7_days 200$/,
      /^GET \/api\/v1\/namespaces\/food_delivery\/datasets\/public\.delivery_7_days\/versions\?limit=\d+&offset=0 200$/,
    ]);
    await v.page.close();
  });

  it('the lineage graph of a dataset and its column lineage, with its drawer', async () => {
    const graph = await visit(`/lineage/dataset/${namespace}/public.orders_7_days`);
    await graph.shows('public.orders_7_days', 'JOB etl_orders_7_day', 'DATASET public.orders');
    await graph.screenshot('table-lineage');
    expectHealthy(graph, [
      /^GET \/api\/v1\/lineage\?nodeId=dataset:food_delivery:public\.orders_7_days&depth=2 200$/,
    ]);
    await graph.page.close();

    const columns = await visit(
      `/datasets/column-level/${namespace}/public.delivery_7_days?dataset=public.delivery_7_days&namespace=${namespace}`,
    );
    // The graph of fields, and the drawer of the dataset: its schema and its facets (column lineage).
    await columns.shows(
      'public.orders_7_days',
      'order_placed_on',
      'SCHEMA',
      'The ID of the order.',
      'FACETS',
    );
    await columns.screenshot('column-lineage');
    expectHealthy(columns, [
      /^GET \/api\/v1\/column-lineage\?nodeId=dataset:food_delivery:public\.delivery_7_days&depth=2&withDownstream=true 200$/,
    ]);
    await columns.page.close();
  });

  it('events: today’s, a page of them, and the next page of two days', async () => {
    const today = await visit('/events');
    await today.shows('26 total', 'etl_orders_7_days', 'COMPLETE');
    await today.click({ selector: 'table tbody tr' });
    await today.shows('eventType');
    await today.screenshot('events');
    expectHealthy(today, [/^GET \/api\/v1\/events\/lineage\?limit=50&.*&offset=0&sortDirection=desc 200$/]);
    await today.page.close();

    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const from = `${day(start.getTime() - DAY_MS)}T00:00:00.000Z`;
    const to = `${day(start.getTime())}T23:59:59.000Z`;
    const both = await visit(`/events?dateFrom=${from}&dateTo=${to}`);
    await both.shows('52 total');
    await both.click({ selector: '[aria-label="Next page"] button' });
    await both.shows('52 total', '51 - 52 of 52');
    const rows = await both.page.$$eval('table tbody tr', (trs) => trs.length);
    expect(rows).toBe(2);
    expectHealthy(both, [/^GET \/api\/v1\/events\/lineage\?limit=50&.*&offset=50&sortDirection=desc 200$/]);
    await both.page.close();
  });

  it('search, sorted as the UI sorts it (UPDATE_AT)', async () => {
    const v = await visit('/datasets');
    await v.shows('13 total');
    // Typed as a user types (the search box re-renders as each letter's results arrive).
    await v.page.type('#searchBar', 'deliv', { delay: 50 });
    await settle(v.page);
    await v.shows('delivery_times_7_days', 'public.delivery_7_days');
    await v.screenshot('search');

    expectHealthy(v, [/^GET \/api\/v1\/search\?q=deliv&sort=UPDATE_AT&limit=100 200$/]);
    await v.page.close();
  });
});
