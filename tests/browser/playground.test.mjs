// The playground in a real browser: headless Debian chromium driven by playwright-core
// (never a browser download).
//
//   node playground.test.mjs <path to the quotagraph binary>
//
// Starts `quotagraph serve --demo` on a free port with a fresh SQLite file, reads the demo
// OWNER key from its stdout, opens the playground, sets the key in GraphiQL's headers
// editor, checks the docs (introspection) load, runs the Dashboard query and the LiveUsage
// subscription and checks their answers, and saves a screenshot of the dashboard answer to
// docs/playground.png. Fails if the page requests anything outside 127.0.0.1, or logs a
// page error or a console error. Environment: CHROMIUM (default /usr/bin/chromium),
// SCREENSHOT (default ../../docs/playground.png, relative to this file).

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CLOCK, STEP_TIMEOUT_MS, allowed, freePort, startServer, stopServer, withTimeout } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const binary = process.argv[2] && resolve(process.argv[2]);
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const screenshotPath = resolve(here, process.env.SCREENSHOT || '../../docs/playground.png');

if (!binary || !existsSync(binary)) {
  console.error('usage: node playground.test.mjs <path to the quotagraph binary, e.g. ../../target/debug/quotagraph>');
  process.exit(2);
}
if (!existsSync(chromiumPath)) {
  console.error(`no chromium at ${chromiumPath}: apt-get install -y chromium (or set CHROMIUM)`);
  process.exit(2);
}

const log = (...a) => console.log('[playground test]', ...a);
const problems = []; // requests outside 127.0.0.1, page errors, console errors

// The text of the CodeMirror editor inside `selector`.
async function editorText(page, selector) {
  return page.locator(selector).first().evaluate((el) => {
    const cm = el.querySelector('.CodeMirror');
    return cm && cm.CodeMirror ? cm.CodeMirror.getValue() : el.textContent;
  });
}

async function resultJson(page, what) {
  let last = '';
  const answer = await withTimeout((async () => {
    for (;;) {
      last = await editorText(page, '.result-window');
      try {
        const json = JSON.parse(last);
        if (json && (json.data || json.errors)) return json;
      } catch { /* not yet a whole answer */ }
      await page.waitForTimeout(100);
    }
  })(), what).catch((e) => { throw new Error(`${e.message}; result pane: ${last.slice(0, 500)}`); });
  return answer;
}

async function openTab(page, title) {
  await page.locator(`.graphiql-tab-button[title="${title}"]`).click();
  await page.locator(`.graphiql-tab-active .graphiql-tab-button[title="${title}"]`).waitFor();
  // GraphiQL takes the operation's name from the editor a moment after the switch.
  await page.waitForTimeout(500);
}

async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'quotagraph-browser-'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  log(`starting ${binary} on ${origin}`);
  const server = await startServer(binary, port, dir);
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
    // Nothing leaves 127.0.0.1: record it as a failure and refuse it.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (allowed(url)) return route.continue();
      problems.push(`request outside 127.0.0.1: ${url}`);
      return route.abort();
    });
    context.on('request', (request) => {
      if (!allowed(request.url())) problems.push(`request outside 127.0.0.1: ${request.url()}`);
    });
    // The page's clock agrees with the server's pinned one (RecordUsage's `at` is "now").
    await context.clock.setFixedTime(new Date(CLOCK));
    const page = await context.newPage();
    const sockets = [];
    page.on('websocket', (ws) => {
      if (!allowed(ws.url())) problems.push(`WebSocket outside 127.0.0.1: ${ws.url()}`);
      const socket = { url: ws.url(), sent: [], received: [] };
      sockets.push(socket);
      ws.on('framesent', (f) => socket.sent.push(String(f.payload)));
      ws.on('framereceived', (f) => socket.received.push(String(f.payload)));
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });

    log('opening the playground');
    const response = await page.goto(`${origin}/graphql`);
    if (!response.ok()) throw new Error(`GET /graphql answered ${response.status()}`);
    const csp = response.headers()['content-security-policy'] || '';
    if (!csp.includes("default-src 'none'") || csp.includes('unsafe')) throw new Error(`weak CSP: ${csp}`);
    await page.locator('.graphiql-container').waitFor({ timeout: STEP_TIMEOUT_MS });
    await page.locator('.graphiql-tab-active .graphiql-tab-button[title="Dashboard"]').waitFor();

    log('setting the key in the headers editor');
    const headers = page.locator('section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden)');
    await headers.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${server.key}` }, null, 2));
    const typed = await editorText(page, 'section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden)');
    if (JSON.parse(typed).Authorization !== `Bearer ${server.key}`) throw new Error(`headers editor holds ${typed}`);

    log('checking the docs load (introspection under the depth and complexity limits)');
    await page.waitForTimeout(600); // the playground picks the key up after a pause
    await page.locator('button[aria-label="Show Documentation Explorer"]').click();
    await withTimeout(
      page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).first().waitFor(),
      'the Documentation Explorer showing the Query root type',
    );
    await page.locator('.graphiql-doc-explorer').getByText('Subscription', { exact: true }).first().waitFor();
    await page.locator('button[aria-label="Hide Documentation Explorer"]').click();

    log('running the Dashboard query');
    await page.locator('.graphiql-execute-button').click();
    const dashboard = await resultJson(page, 'the Dashboard answer');
    if (dashboard.errors) throw new Error(`Dashboard answered errors: ${JSON.stringify(dashboard.errors)}`);
    const org = dashboard.data && dashboard.data.organization;
    const usage = org && org.usage;
    if (!org || org.name !== 'Acme Corp' || !usage) throw new Error(`Dashboard: ${JSON.stringify(dashboard)}`);
    const decimal = /^\d+(\.\d+)?$/;
    for (const field of ['totalCapacity', 'consumed', 'remaining', 'allocated', 'availableForAllocation']) {
      if (!decimal.test(usage[field])) throw new Error(`Dashboard: usage.${field} = ${usage[field]}`);
    }
    if (!(Number(usage.consumed) > 0)) throw new Error(`Dashboard: nothing consumed: ${usage.consumed}`);
    if (!Array.isArray(usage.tenants) || usage.tenants.length < 2) throw new Error('Dashboard: no tenant cards');
    if (!decimal.test(org.quota.used)) throw new Error(`Dashboard: quota ${JSON.stringify(org.quota)}`);
    log(`dashboard: consumed ${usage.consumed} of ${usage.totalCapacity}, ${usage.tenants.length} tenant cards`);
    await page.locator('.result-window').getByText('"totalCapacity"').first().waitFor();
    // Show the Variables editor (the key in the Headers editor stays out of the picture).
    await page.locator('.graphiql-editor-tools button[data-name="variables"]').click();
    await page.screenshot({ path: screenshotPath });
    log(`screenshot: ${screenshotPath}`);

    // The other preloaded examples answer without errors too (the key and $org/$tenant
    // come from the first tab's headers and the key's scope).
    const expected = {
      TenantView: (d) => d.organization.usage.tenant && decimal.test(d.organization.usage.tenant.consumed),
      FoldersByExecution: (d) => d.organization.usage.tenants.some((t) => t.folders.length > 0),
      FoldersByOwnership: (d) => d.organization.usage.tenants.some((t) => t.folders.length > 0),
      RecordUsage: (d) => d.recordUsage.accepted === 1,
    };
    for (const [title, check] of Object.entries(expected)) {
      await openTab(page, title);
      await page.locator('.graphiql-execute-button').click();
      const answer = await resultJson(page, `the ${title} answer`);
      if (answer.errors || !check(answer.data)) throw new Error(`${title} answered ${JSON.stringify(answer).slice(0, 600)}`);
      log(`${title}: ok`);
    }

    log('running the LiveUsage subscription (over WebSocket)');
    await openTab(page, 'LiveUsage');
    await page.locator('.graphiql-execute-button').click();
    const live = await resultJson(page, 'the first LiveUsage answer');
    if (live.errors) throw new Error(`LiveUsage answered errors: ${JSON.stringify(live.errors)}`);
    if (!live.data || !live.data.usage || !decimal.test(live.data.usage.consumed)) {
      throw new Error(`LiveUsage: ${JSON.stringify(live)}`);
    }
    log(`subscription: consumed ${live.data.usage.consumed}, status ${live.data.usage.status}`);
    const socket = sockets.find((s) => s.url === `ws://127.0.0.1:${port}/graphql`);
    if (!socket) throw new Error(`no WebSocket to ws://127.0.0.1:${port}/graphql (${sockets.map((s) => s.url)})`);
    const init = socket.sent.map((f) => JSON.parse(f)).find((m) => m.type === 'connection_init');
    if (!init || !init.payload || init.payload.Authorization !== `Bearer ${server.key}`) {
      throw new Error(`connection_init did not carry the key: ${JSON.stringify(init)}`);
    }
    if (!socket.received.some((f) => JSON.parse(f).type === 'connection_ack')) throw new Error('no connection_ack');
    await page.locator('.graphiql-execute-button').click(); // stop it
    await page.waitForTimeout(300);
    await context.close();
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
  console.error('[playground test] FAILED:\n- ' + problems.join('\n- '));
  process.exit(1);
}
log('passed');
