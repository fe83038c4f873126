// The reference dashboard in a real browser: headless Debian chromium driven by
// playwright-core (never a browser download).
//
//   node dashboard.test.mjs <path to the quotagraph binary>
//
// On the demo data and on a generated organization: every view shows exactly what the API
// answers to the view's own query (the test reads the query out of dashboard.js and runs it
// itself), the attribution toggle changes folders and processes together, the bundle and
// range stay chosen while moving between views, a recordUsage redraws the cards within 2
// seconds without a reload, every CSV button downloads the numbers its table or chart shows,
// a TENANT_ADMIN key sees its tenant only, a SYSTEM key picks an organization, nothing is
// requested outside 127.0.0.1, and a page served from another origin can call the API when
// QUOTAGRAPH_CORS_ORIGINS names it and cannot when it does not. Screenshots of each view at
// 1280×800 and 390×844 go to docs/screenshots/.
// Environment: CHROMIUM (default /usr/bin/chromium), SEED (the generated organization's).

import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { generateOrganization } from './generated.mjs';
import {
  check, checkCsvButtons, checkFolderView, checkNotificationsView, checkOrgView, checkTenantView, checkUsageView, settled,
} from './views.mjs';
import { BOOTSTRAP_KEY, CLOCK, STEP_TIMEOUT_MS, allowed, freePort, startServer, stopServer } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const binary = process.argv[2] && resolve(process.argv[2]);
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = resolve(here, '../../docs/screenshots');

if (!binary || !existsSync(binary)) {
  console.error('usage: node dashboard.test.mjs <path to the quotagraph binary, e.g. ../../target/debug/quotagraph>');
  process.exit(2);
}
if (!existsSync(chromiumPath)) {
  console.error(`no chromium at ${chromiumPath}: apt-get install -y chromium (or set CHROMIUM)`);
  process.exit(2);
}

const log = (...a) => console.log('[dashboard test]', ...a);
const problems = [];
const VIEWPORTS = [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]];

// A page on another origin: the cross-origin check loads it and calls the API from it.
function otherSite() {
  return new Promise((ok) => {
    const server = createServer((_, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<!doctype html><title>another origin</title><p>A frontend served elsewhere.</p>');
    });
    server.listen(0, '127.0.0.1', () => ok({ origin: `http://127.0.0.1:${server.address().port}`, close: () => server.close() }));
  });
}

async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'quotagraph-dashboard-'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const [allowedSite, refusedSite] = [await otherSite(), await otherSite()];
  log(`starting ${binary} on ${origin}, CORS allowed for ${allowedSite.origin}`);
  const server = await startServer(binary, port, dir, { QUOTAGRAPH_CORS_ORIGINS: allowedSite.origin });
  const api = async (query, variables = {}, key = server.key) => {
    const response = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    return response.json();
  };
  const as = (key) => (query, variables) => api(query, variables, key);
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const open = async (key, viewport = VIEWPORTS[0][1]) => {
      const context = await browser.newContext({ viewport, deviceScaleFactor: 1, acceptDownloads: true });
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (allowed(url)) return route.continue();
        problems.push(`request outside 127.0.0.1: ${url}`);
        return route.abort();
      });
      context.on('request', (request) => {
        if (!allowed(request.url())) problems.push(`request outside 127.0.0.1: ${request.url()}`);
      });
      const page = await context.newPage();
      page.on('websocket', (ws) => { if (!allowed(ws.url())) problems.push(`WebSocket outside 127.0.0.1: ${ws.url()}`); });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
      // The page and its assets, as sent (the server does not compress them).
      const bodies = [];
      page.on('response', (r) => {
        if (new URL(r.url()).pathname.startsWith('/dashboard')) bodies.push(r.body().then((b) => b.length, () => 0));
      });
      const bytes = async () => (await Promise.all(bodies)).reduce((a, b) => a + b, 0);
      const started = Date.now();
      const response = await page.goto(`${origin}/dashboard`);
      check(response.ok(), `GET /dashboard answered ${response.status()}`);
      await page.getByLabel('API key').fill(key);
      await page.getByRole('button', { name: 'Open the dashboard' }).click();
      await page.locator('#view [data-testid^="card-"] [data-testid="value"]').first().waitFor({ timeout: STEP_TIMEOUT_MS });
      const firstFigures = Date.now() - started;
      await settled(page);
      return { context, page, firstFigures, bytes };
    };
    const shoot = async (page, name) => {
      mkdirSync(shots, { recursive: true });
      for (const [size, viewport] of VIEWPORTS) {
        await page.setViewportSize(viewport);
        await page.waitForTimeout(300);
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        check(width <= viewport.width, `${name} at ${viewport.width}px is ${width}px wide: the page scrolls sideways`);
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: join(shots, `${name}-${size}.png`), fullPage: false });
      }
      await page.setViewportSize(VIEWPORTS[0][1]);
    };
    const hash = (page) => page.evaluate(() => location.hash);
    const modeOf = async (page) => (/attr=OWNERSHIP/.test(await hash(page)) ? 'OWNERSHIP' : 'EXECUTION');
    const go = async (page, click, pattern) => {
      await click();
      await page.waitForFunction((p) => new RegExp(p).test(location.hash), pattern.source);
      await settled(page);
    };

    // ---- The demo organization -----------------------------------------------------------
    log('signing in with the demo OWNER key');
    const demo = await open(server.key);
    const { page } = demo;
    log(`first figures after ${demo.firstFigures} ms; ${await demo.bytes()} bytes of /dashboard and its assets transferred`);
    const owner = as(server.key);
    const org = (await owner('{ viewer { organization { id } } }')).data.viewer.organization.id;
    const period = { unit: 'test-executions', bundle: null, range: null };

    log('organization view = the Dashboard query');
    const usage = await checkOrgView(page, owner, { org, ...period, states: null });
    await page.selectOption('#state', 'ACTIVE');
    await page.waitForFunction(() => location.hash.includes('state=ACTIVE'));
    await settled(page);
    await checkOrgView(page, owner, { org, ...period, states: ['ACTIVE'] });
    await page.selectOption('#state', '');
    await settled(page);
    log(`organization view: ${await checkCsvButtons(page)} CSV downloads equal the page`);
    await shoot(page, 'organization');

    log('a recordUsage redraws the cards within 2 seconds, without a reload');
    await page.evaluate(() => { window.notReloaded = true; });
    const production = usage.tenants.find((t) => t.displayName === 'Production');
    const recorded = await owner(`mutation($tenant: ID!, $at: DateTime!) { recordUsage(input: { events: [{
      idempotencyKey: "dashboard-test-1", tenantId: $tenant, unitType: "test-executions", service: "test-manager",
      quantity: "7", occurredAt: $at, jobId: "dashboard-test-1" }] }) { accepted } }`, { tenant: production.tenant.id, at: CLOCK });
    check(recorded.data?.recordUsage?.accepted === 1, `recordUsage: ${JSON.stringify(recorded)}`);
    const expected = String(Number(usage.consumed) + 7);
    const t0 = Date.now();
    await page.waitForFunction((want) => document.querySelector('[data-testid="card-consumed"] [data-testid="value"]')?.textContent === want,
      expected, { timeout: 2000 });
    log(`consumed card redrawn to ${expected} after ${Date.now() - t0} ms`);
    check(await page.evaluate(() => window.notReloaded === true), 'the page was reloaded');
    await settled(page);
    await checkOrgView(page, owner, { org, ...period, states: null });

    log('tenant view = the TenantView query, in both attribution modes');
    const tenantId = production.tenant.id;
    await go(page, () => page.locator('[data-testid="tenant-row"] a', { hasText: 'Production' }).click(), /^#\/tenant\//);
    const tenantVars = (attribution) => ({ org, tenant: tenantId, ...period, granularity: 'WEEK', attribution });
    const execution = await checkTenantView(page, owner, tenantVars('EXECUTION'));
    log(`tenant view: ${await checkCsvButtons(page)} CSV downloads equal the page`);
    await shoot(page, 'tenant');
    await go(page, () => page.locator('[data-testid="attr-OWNERSHIP"]').click(), /attr=OWNERSHIP/);
    const ownership = await checkTenantView(page, owner, tenantVars('OWNERSHIP'));
    check(JSON.stringify(ownership.folders) !== JSON.stringify(execution.folders), 'folders did not change with the mode');
    check(JSON.stringify(ownership.processes) !== JSON.stringify(execution.processes), 'processes did not change with the mode');
    await checkCsvButtons(page);
    await page.locator('[data-testid="process-row"] button[aria-expanded="false"]').first().click();
    check(await page.locator('[data-testid="process-child-row"]').count() > 0, 'a chain did not expand');
    await go(page, () => page.locator('[data-testid="g-DAY"]').click(), /g=DAY/);
    await checkTenantView(page, owner, { ...tenantVars('OWNERSHIP'), granularity: 'DAY' });

    log('folder view = the FolderView query');
    await go(page, () => page.locator('[data-testid="folder-row"] a').first().click(), /^#\/folder\//);
    check(/attr=OWNERSHIP/.test(await hash(page)) && /g=DAY/.test(await hash(page)), 'the hash lost its parameters');
    const folderId = decodeURIComponent((await hash(page)).split('/')[2].split('?')[0]);
    const folderVars = (attribution) => ({ org, folder: folderId, ...period, granularity: 'DAY', attribution });
    await checkFolderView(page, owner, folderVars('OWNERSHIP'));
    await checkCsvButtons(page);
    await go(page, () => page.locator('[data-testid="attr-EXECUTION"]').click(), /attr=EXECUTION/);
    await checkFolderView(page, owner, folderVars('EXECUTION'));
    log(`folder view: ${await checkCsvButtons(page)} CSV downloads equal the page`);
    await go(page, () => page.locator('[data-testid="g-WEEK"]').click(), /g=WEEK/);
    await shoot(page, 'folder');

    log('usage and notifications pages');
    await go(page, () => page.locator('#nav a[data-view="usage"]').click(), /^#\/usage/);
    await page.locator('[data-testid="quota-used"]').waitFor();
    await checkUsageView(page, owner, { org, unit: 'test-executions' });
    log(`usage page: ${await checkCsvButtons(page)} CSV downloads equal the page`);
    await shoot(page, 'usage');
    await go(page, () => page.locator('#nav a[data-view="notifications"]').click(), /^#\/notifications/);
    await page.waitForFunction(() => document.querySelector('#view')?.dataset.view === 'notifications');
    const notifications = await checkNotificationsView(page, owner, { org });
    check(notifications.length > 0, 'no notifications');
    log(`notifications page: ${await checkCsvButtons(page)} CSV downloads equal the page`);
    await shoot(page, 'notifications');
    await demo.context.close();

    log('a TENANT_ADMIN key sees its tenant only');
    const made = await owner(`mutation($org: ID!, $tenant: ID!) { createApiKey(input: {
      organizationId: $org, tenantId: $tenant, role: TENANT_ADMIN, name: "dashboard test" }) { secret } }`, { org, tenant: tenantId });
    const secret = made.data?.createApiKey?.secret;
    check(secret, `createApiKey: ${JSON.stringify(made)}`);
    const admin = await open(secret);
    await admin.page.waitForFunction((id) => location.hash.startsWith(`#/tenant/${encodeURIComponent(id)}`), tenantId);
    await settled(admin.page);
    check((await admin.page.locator('#view h1').innerText()).startsWith('Production'), 'the tenant admin does not see its tenant');
    await checkTenantView(admin.page, as(secret), tenantVars('EXECUTION'));
    await checkCsvButtons(admin.page);
    const other = usage.tenants.find((t) => t.displayName === 'QA');
    await admin.page.evaluate((id) => { location.hash = `#/tenant/${encodeURIComponent(id)}`; }, other.tenant.id);
    await settled(admin.page);
    check(await admin.page.locator('[data-testid="card-consumed"]').count() === 0, 'the tenant admin sees another tenant');
    await admin.page.evaluate(() => { location.hash = '#/org'; });
    await settled(admin.page);
    check(await admin.page.locator('[data-testid="tenant-row"]').count() <= 1, 'the tenant admin sees other tenants');
    await admin.page.evaluate(() => { location.hash = '#/notifications'; });
    await settled(admin.page);
    const theirs = await checkNotificationsView(admin.page, as(secret), { org });
    check(theirs.every((n) => n.tenantId === tenantId), 'the tenant admin sees other tenants\' notifications');
    await admin.context.close();

    log('a SYSTEM key picks its organization');
    const system = await open(BOOTSTRAP_KEY);
    check(await system.page.locator('#org option', { hasText: 'Acme Corp' }).count() === 1, 'no organization picker');
    await checkOrgView(system.page, as(BOOTSTRAP_KEY), { org, ...period, states: null });
    await system.context.close();

    // ---- A generated organization --------------------------------------------------------
    const seed = Number(process.env.SEED || 20261206);
    log(`a generated organization (SEED=${seed})`);
    const generated = await generateOrganization(as(BOOTSTRAP_KEY), seed, CLOCK);
    const mine = as(generated.key);
    const gen = await open(generated.key);
    const g = gen.page;
    const genPeriod = { unit: generated.unit, bundle: null, range: null };
    const genUsage = await checkOrgView(g, mine, { org: generated.org, ...genPeriod, states: null });
    await checkCsvButtons(g);
    for (const t of genUsage.tenants) {
      await go(g, () => g.locator('[data-testid="tenant-row"] a', { hasText: t.displayName }).click(), /^#\/tenant\//);
      for (const attribution of ['EXECUTION', 'OWNERSHIP']) {
        if (!(await hash(g)).includes(`attr=${attribution}`)) await go(g, () => g.locator(`[data-testid="attr-${attribution}"]`).click(), new RegExp(`attr=${attribution}`));
        const shown = await checkTenantView(g, mine, { org: generated.org, tenant: t.tenant.id, ...genPeriod, granularity: 'WEEK', attribution });
        await checkCsvButtons(g);
        const folderLink = g.locator('[data-testid="folder-row"] a').first();
        if (shown.folders.length > 0 && await folderLink.count() > 0) {
          await go(g, () => folderLink.click(), /^#\/folder\//);
          const id = decodeURIComponent((await hash(g)).split('/')[2].split('?')[0]);
          await checkFolderView(g, mine, { org: generated.org, folder: id, ...genPeriod, granularity: 'WEEK', attribution });
          await checkCsvButtons(g);
          await go(g, () => g.goBack(), /^#\/tenant\//);
        }
      }
      await go(g, () => g.locator('#nav a[data-view="org"]').click(), /^#\/org/);
    }

    log('the bundle and the range stay chosen while moving between views');
    await go(g, () => g.selectOption('#bundle', '2026-10-01'), /bundle=2026-10-01/);
    const october = { ...genPeriod, bundle: '2026-10-01' };
    const octUsage = await checkOrgView(g, mine, { org: generated.org, ...october, states: null });
    check(octUsage.from === '2026-10-01', `the October bundle reads from ${octUsage.from}`);
    await checkCsvButtons(g);
    const first = octUsage.tenants[0];
    await go(g, () => g.locator('[data-testid="tenant-row"] a', { hasText: first.displayName }).click(), /^#\/tenant\/.*bundle=2026-10-01/);
    await checkTenantView(g, mine, { org: generated.org, tenant: first.tenant.id, ...october, granularity: 'WEEK', attribution: await modeOf(g) });
    await g.fill('#from', '2026-10-05');
    await g.fill('#to', '2026-10-20');
    await go(g, () => g.getByRole('button', { name: 'Apply range' }).click(), /from=2026-10-05.*to=2026-10-20|to=2026-10-20.*from=2026-10-05/);
    const ranged = { ...october, range: { from: '2026-10-05', to: '2026-10-20' } };
    const inRange = await checkTenantView(g, mine, { org: generated.org, tenant: first.tenant.id, ...ranged, granularity: 'WEEK', attribution: await modeOf(g) });
    await checkCsvButtons(g);
    if (inRange.folders.length > 0 && await g.locator('[data-testid="folder-row"] a').count() > 0) {
      await go(g, () => g.locator('[data-testid="folder-row"] a').first().click(), /^#\/folder\/.*bundle=2026-10-01/);
      check(/from=2026-10-05/.test(await hash(g)), 'the range was lost on the way to the folder');
      const id = decodeURIComponent((await hash(g)).split('/')[2].split('?')[0]);
      await checkFolderView(g, mine, { org: generated.org, folder: id, ...ranged, granularity: 'WEEK', attribution: await modeOf(g) });
      await checkCsvButtons(g);
    }
    await go(g, () => g.locator('.crumbs a').first().click(), /bundle=2026-10-01/);
    await go(g, () => g.locator('#nav a[data-view="org"]').click(), /^#\/org.*bundle=2026-10-01/);
    await checkOrgView(g, mine, { org: generated.org, ...ranged, states: null });
    await go(g, () => g.locator('#nav a[data-view="usage"]').click(), /^#\/usage/);
    await checkUsageView(g, mine, { org: generated.org, unit: generated.unit });
    await checkCsvButtons(g);
    await gen.context.close();

    // ---- Another origin ------------------------------------------------------------------
    log('a page on another origin calls the API only when CORS allows it');
    const link = (await owner(`mutation($org: ID!) { createExportLink(input: { report: "tenants", organizationId: $org,
      unitType: "test-executions" }) { url } }`, { org })).data.createExportLink.url;
    const fromSite = async (site) => {
      const context = await browser.newContext();
      const other = await context.newPage();
      await other.goto(site.origin);
      const result = await other.evaluate(async ({ api, key, exportUrl }) => {
        const outcome = {};
        try {
          const r = await fetch(`${api}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
            body: JSON.stringify({ query: '{ viewer { role } }' }),
          });
          outcome.graphql = { status: r.status, body: await r.json(), requestId: r.headers.get('x-request-id') };
        } catch (e) { outcome.graphql = { error: String(e) }; }
        try {
          const r = await fetch(`${api}${exportUrl}`);
          outcome.export = { status: r.status, disposition: r.headers.get('content-disposition'), body: await r.text() };
        } catch (e) { outcome.export = { error: String(e) }; }
        return outcome;
      }, { api: origin, key: server.key, exportUrl: link });
      await context.close();
      return result;
    };
    const yes = await fromSite(allowedSite);
    check(yes.graphql.body?.data?.viewer?.role === 'OWNER' && yes.graphql.requestId, `allowed origin, /graphql: ${JSON.stringify(yes.graphql)}`);
    check(yes.export.status === 200 && /tenants/.test(yes.export.disposition || '') && yes.export.body.startsWith('tenant_id,'),
      `allowed origin, export link: ${JSON.stringify(yes.export).slice(0, 300)}`);
    const no = await fromSite(refusedSite);
    check(no.graphql.error && !no.graphql.body, `refused origin, /graphql: ${JSON.stringify(no.graphql)}`);
    check(no.export.error && !no.export.body, `refused origin, export link: ${JSON.stringify(no.export).slice(0, 300)}`);
    log('allowed origin: /graphql and the export link answer; refused origin: both blocked by the browser');
  } finally {
    if (browser) await browser.close();
    await stopServer(server);
    allowedSite.close();
    refusedSite.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  await run();
} catch (error) {
  problems.unshift(error.stack || String(error));
}
if (problems.length > 0) {
  console.error('[dashboard test] FAILED:\n- ' + problems.join('\n- '));
  process.exit(1);
}
log('passed');
