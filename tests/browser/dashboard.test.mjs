// The reference dashboard in a real browser: headless Debian chromium driven by
// playwright-core (never a browser download).
//
//   node dashboard.test.mjs <path to the quotagraph binary>
//
// On the demo data, with the OWNER key: the organization and tenant views show exactly what
// the API answers to the same query (the test reads the query out of dashboard.js and runs
// it itself), the attribution toggle changes folders and processes together, a recordUsage
// redraws the cards within 2 seconds without a reload, a CSV button downloads the table's
// numbers, a TENANT_ADMIN key sees its tenant only, a SYSTEM key picks an organization, and nothing is requested outside
// 127.0.0.1. Screenshots of each view at 1280×800 and 390×844 go to docs/screenshots/.
// Environment: CHROMIUM (default /usr/bin/chromium).

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { BOOTSTRAP_KEY, CLOCK, STEP_TIMEOUT_MS, allowed, freePort, startServer, stopServer, withTimeout } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const binary = process.argv[2] && resolve(process.argv[2]);
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = resolve(here, '../../docs/screenshots');
const script = readFileSync(resolve(here, '../../src/http/dashboard/dashboard.js'), 'utf8');

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

// The page's own query, so the comparison is with exactly what the view asks.
function queryOf(name) {
  const match = new RegExp(`const ${name} = \`([^\`]+)\``).exec(script);
  if (!match) throw new Error(`${name} not found in dashboard.js`);
  return match[1];
}

function check(condition, what) {
  if (!condition) throw new Error(what);
}

const percent = (ratio) => (ratio === null || ratio === undefined ? '—' : `${(ratio * 100).toFixed(1)}%`);

async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'quotagraph-dashboard-'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  log(`starting ${binary} on ${origin}`);
  const server = await startServer(binary, port, dir);
  const api = async (query, variables = {}, key = server.key) => {
    const response = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    return response.json();
  };
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const open = async (key, viewport) => {
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
      return { context, page, firstFigures: Date.now() - started, bytes };
    };
    const shoot = async (page, name) => {
      mkdirSync(shots, { recursive: true });
      for (const [size, viewport] of VIEWPORTS) {
        await page.setViewportSize(viewport);
        await page.waitForTimeout(300);
        await page.screenshot({ path: join(shots, `${name}-${size}.png`), fullPage: false });
      }
      await page.setViewportSize(VIEWPORTS[0][1]);
    };
    // Every CSV button of the view downloads a CSV file.
    const downloadsAll = async (page) => {
      const buttons = page.locator('button[data-testid^="csv-"]');
      for (let i = 0; i < await buttons.count(); i += 1) {
        const [download] = await Promise.all([page.waitForEvent('download'), buttons.nth(i).click()]);
        check(download.suggestedFilename().endsWith('.csv'), `${await buttons.nth(i).getAttribute('data-testid')}: ${download.suggestedFilename()}`);
      }
    };
    const text = (locator) => locator.innerText().then((t) => t.trim());
    const settled = async (page) => {
      await page.waitForFunction(() => !document.querySelector('#view > p.muted'));
      await page.waitForTimeout(200);
    };

    log('signing in with the OWNER key');
    const { context, page, firstFigures, bytes } = await open(server.key, VIEWPORTS[0][1]);
    await settled(page);
    log(`first figures after ${firstFigures} ms; ${await bytes()} bytes of /dashboard and its assets transferred`);
    const org = (await api('{ viewer { organization { id } } }')).data.viewer.organization.id;

    log('organization view = the Dashboard query');
    const orgAnswer = await api(queryOf('ORG_QUERY'), { org, unit: 'test-executions', bundle: null, range: null, states: null });
    check(!orgAnswer.errors, `Dashboard: ${JSON.stringify(orgAnswer.errors)}`);
    const usage = orgAnswer.data.organization.usage;
    for (const field of ['totalCapacity', 'consumed', 'remaining', 'allocated']) {
      const shown = await text(page.locator(`[data-testid="card-${field}"] [data-testid="value"]`));
      check(shown === usage[field], `card ${field}: shows ${shown}, the API answers ${usage[field]}`);
    }
    check(await text(page.locator('[data-testid="card-capacityCard"] [data-testid="value"]')) === usage.capacityCard.value, 'capacity card');
    check(await text(page.locator('#org-cards [data-testid="status"]')) === usage.status.replaceAll('_', ' '), 'organization status');
    const rows = page.locator('[data-testid="tenant-row"]');
    check(await rows.count() === usage.tenants.length, `${await rows.count()} tenant rows for ${usage.tenants.length} tenants`);
    for (const [i, t] of usage.tenants.entries()) {
      const row = rows.nth(i);
      const cell = (f) => text(row.locator(`[data-testid="cell-${f}"]`));
      check(await cell('displayName') === t.displayName, `row ${i} name`);
      for (const f of ['consumed', 'consumedFromOrganization', 'remaining', 'overage']) {
        check(await cell(f) === t[f], `row ${i} ${f}: ${await cell(f)} vs ${t[f]}`);
      }
      check(await cell('allocated') === (t.allocated ?? '—'), `row ${i} allocated`);
      check(await cell('consumptionRate') === percent(t.consumptionRate), `row ${i} rate`);
      check(await cell('status') === t.status.replaceAll('_', ' '), `row ${i} status`);
    }
    await page.selectOption('#state', 'ACTIVE');
    await page.waitForFunction(() => location.hash.includes('state=ACTIVE'));
    await settled(page);
    const active = usage.tenants.filter((t) => !['DISABLED', 'DELETED'].includes(t.status)).length;
    check(await rows.count() <= active && await rows.count() > 0, 'the state filter');
    await page.selectOption('#state', '');
    await settled(page);
    await downloadsAll(page);
    await shoot(page, 'organization');

    log('a recordUsage redraws the cards within 2 seconds, without a reload');
    await page.evaluate(() => { window.notReloaded = true; });
    const production = usage.tenants.find((t) => t.displayName === 'Production');
    const recorded = await api(`mutation($tenant: ID!, $at: DateTime!) { recordUsage(input: { events: [{
      idempotencyKey: "dashboard-test-1", tenantId: $tenant, unitType: "test-executions", service: "test-manager",
      quantity: "7", occurredAt: $at, jobId: "dashboard-test-1" }] }) { accepted } }`, { tenant: production.tenant.id, at: CLOCK });
    check(recorded.data?.recordUsage?.accepted === 1, `recordUsage: ${JSON.stringify(recorded)}`);
    const expected = String(Number(usage.consumed) + 7);
    const t0 = Date.now();
    await page.waitForFunction((want) => document.querySelector('[data-testid="card-consumed"] [data-testid="value"]')?.textContent === want,
      expected, { timeout: 2000 });
    log(`consumed card redrawn to ${expected} after ${Date.now() - t0} ms`);
    check(await page.evaluate(() => window.notReloaded === true), 'the page was reloaded');

    log('tenant view = the TenantView query');
    await page.locator('[data-testid="tenant-row"] a', { hasText: 'Production' }).click();
    await page.waitForFunction(() => location.hash.startsWith('#/tenant/'));
    await settled(page);
    const tenantId = production.tenant.id;
    const tenantVars = (attribution) => ({ org, tenant: tenantId, unit: 'test-executions', bundle: null, range: null, granularity: 'WEEK', attribution });
    const checkTenant = async (attribution) => {
      const answer = await api(queryOf('TENANT_QUERY'), tenantVars(attribution));
      check(!answer.errors, `TenantView: ${JSON.stringify(answer.errors)}`);
      const t = answer.data.organization.usage.tenant;
      for (const f of ['consumed', 'remaining', 'overage', 'availableForAllocation']) {
        const shown = await text(page.locator(`[data-testid="card-${f}"] [data-testid="value"]`));
        check(shown === t[f], `tenant card ${f}: ${shown} vs ${t[f]}`);
      }
      const services = page.locator('[data-testid="service-row"]');
      check(await services.count() === t.byService.services.length, 'service rows');
      for (const [i, s] of t.byService.services.entries()) {
        check(await text(services.nth(i).locator('[data-testid="cell-name"]')) === s.service.name, `service ${i} name`);
        check(await text(services.nth(i).locator('[data-testid="cell-consumed"]')) === s.consumed, `service ${i} consumed`);
        check(await text(services.nth(i).locator('[data-testid="cell-share"]')) === percent(s.share), `service ${i} share`);
      }
      const folders = (fs) => fs.flatMap((f) => [f.consumed, ...folders(f.children || [])]);
      const shownFolders = await page.locator('[data-testid="folder-row"] [data-testid="cell-consumed"]').allInnerTexts();
      check(JSON.stringify(shownFolders) === JSON.stringify(folders(t.folders)), `folders ${shownFolders} vs ${folders(t.folders)}`);
      const processes = t.processes.edges.map((e) => `${e.node.process.name}:${e.node.own}:${e.node.consumed}`);
      const shownProcesses = await page.locator('[data-testid="process-row"]').evaluateAll((rs) => rs.map((r) =>
        ['name', 'own', 'consumed'].map((f) => r.querySelector(`[data-testid="cell-${f}"]`).textContent.replace(/[\u2003▸▾]/g, '').trim()).join(':')));
      check(JSON.stringify(shownProcesses) === JSON.stringify(processes), `processes ${shownProcesses} vs ${processes}`);
      return { folders: shownFolders, processes: shownProcesses, services: t.byService.services };
    };
    const execution = await checkTenant('EXECUTION');
    await downloadsAll(page);
    await shoot(page, 'tenant');

    log('a CSV button downloads the table\'s numbers');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid="csv-services"]').click()]);
    check(/\.csv$/.test(download.suggestedFilename()) && download.suggestedFilename().includes('services'), `file name ${download.suggestedFilename()}`);
    const csv = readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/).map((l) => l.split(','));
    const [header, ...lines] = csv;
    const consumedColumn = header.indexOf('consumed');
    const nameColumn = header.indexOf('name');
    check(JSON.stringify(lines.map((l) => [l[nameColumn], l[consumedColumn]]))
      === JSON.stringify(execution.services.map((s) => [s.service.name, s.consumed])), `CSV ${JSON.stringify(lines)}`);

    log('the attribution toggle changes folders and processes together');
    await page.locator('[data-testid="attr-OWNERSHIP"]').click();
    await page.waitForFunction(() => location.hash.includes('attr=OWNERSHIP'));
    await settled(page);
    const ownership = await checkTenant('OWNERSHIP');
    check(JSON.stringify(ownership.folders) !== JSON.stringify(execution.folders), 'folders did not change');
    check(JSON.stringify(ownership.processes) !== JSON.stringify(execution.processes), 'processes did not change');
    const expand = page.locator('[data-testid="process-row"] button[aria-expanded="false"]').first();
    await expand.click();
    check(await page.locator('[data-testid="process-child-row"]').count() > 0, 'a chain did not expand');

    log('folder view');
    await page.locator('[data-testid="folder-row"] a').first().click();
    await page.waitForFunction(() => location.hash.startsWith('#/folder/'));
    await settled(page);
    check(/attr=OWNERSHIP/.test(await page.evaluate(() => location.hash)), 'the hash lost its parameters');
    const folderId = decodeURIComponent((await page.evaluate(() => location.hash)).split('/')[2].split('?')[0]);
    const folder = await api(queryOf('FOLDER_QUERY'), { org, folder: folderId, unit: 'test-executions', bundle: null, range: null, granularity: 'WEEK', attribution: 'OWNERSHIP' });
    check(await text(page.locator('[data-testid="folder-consumed"]')) === folder.data.organization.usage.folder.consumed, 'folder consumed');
    await shoot(page, 'folder');

    log('usage and notifications pages');
    await page.locator('#nav a[data-view="usage"]').click();
    await page.locator('[data-testid="quota-used"]').waitFor();
    await settled(page);
    await downloadsAll(page);
    await shoot(page, 'usage');
    await page.locator('#nav a[data-view="notifications"]').click();
    await page.waitForFunction(() => document.querySelector('#view')?.dataset.view === 'notifications');
    await settled(page);
    check(await page.locator('[data-testid="notification-row"]').count() > 0, 'no notifications');
    await shoot(page, 'notifications');
    await context.close();

    log('a TENANT_ADMIN key sees its tenant only');
    const made = await api(`mutation($org: ID!, $tenant: ID!) { createApiKey(input: {
      organizationId: $org, tenantId: $tenant, role: TENANT_ADMIN, name: "dashboard test" }) { secret } }`, { org, tenant: tenantId });
    const secret = made.data?.createApiKey?.secret;
    check(secret, `createApiKey: ${JSON.stringify(made)}`);
    const admin = await open(secret, VIEWPORTS[0][1]);
    await admin.page.waitForFunction((id) => location.hash.startsWith(`#/tenant/${encodeURIComponent(id)}`), tenantId);
    await settled(admin.page);
    check((await text(admin.page.locator('#view h1'))).startsWith('Production'), 'the tenant admin does not see its tenant');
    const other = usage.tenants.find((t) => t.displayName === 'QA');
    await admin.page.evaluate((id) => { location.hash = `#/tenant/${encodeURIComponent(id)}`; }, other.tenant.id);
    await settled(admin.page);
    check(await admin.page.locator('[data-testid="card-consumed"]').count() === 0, 'the tenant admin sees another tenant');
    await admin.page.evaluate(() => { location.hash = '#/org'; });
    await settled(admin.page);
    check(await admin.page.locator('[data-testid="tenant-row"]').count() <= 1, 'the tenant admin sees other tenants');
    await admin.context.close();

    log('a SYSTEM key picks its organization');
    const system = await open(BOOTSTRAP_KEY, VIEWPORTS[0][1]);
    await settled(system.page);
    check(await system.page.locator('#org option', { hasText: 'Acme Corp' }).count() === 1, 'no organization picker');
    check(await text(system.page.locator('[data-testid="card-consumed"] [data-testid="value"]')) === String(Number(usage.consumed) + 7),
      'the SYSTEM key sees other figures');
    await system.context.close();
  } finally {
    if (browser) await browser.close();
    await stopServer(server);
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
