// What each dashboard view must show: the view's own query (read out of dashboard.js) is
// run with the page's key and every figure on the page is compared with the answer; every
// CSV button's download is compared with the table, chart or cards it sits by.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const script = readFileSync(resolve(here, '../../src/http/dashboard/dashboard.js'), 'utf8');

// The page's own query, so the comparison is with exactly what the view asks.
export function queryOf(name) {
  const match = new RegExp(`const ${name} = \`([^\`]+)\``).exec(script);
  if (!match) throw new Error(`${name} not found in dashboard.js`);
  return match[1];
}

export function check(condition, what) {
  if (!condition) throw new Error(what);
}

const same = (shown, expected, what) =>
  check(JSON.stringify(shown) === JSON.stringify(expected), `${what}: the page shows ${JSON.stringify(shown)}, the API answers ${JSON.stringify(expected)}`);

export const percent = (ratio) => (ratio === null || ratio === undefined ? '—' : `${(ratio * 100).toFixed(1)}%`);
const words = (status) => status.replaceAll('_', ' ');
const text = (locator) => locator.innerText().then((t) => t.trim());
const card = (page, field) => text(page.locator(`[data-testid="card-${field}"] [data-testid="value"]`));

// Every row of the tables in `scope` (a CSS selector or a button's section): its testid and
// its cells by field, as the page shows them (indents and chain arrows left out).
async function rowsIn(locator) {
  return locator.evaluate((el) => {
    const section = el.closest('.section') || el;
    return [...section.querySelectorAll('tbody tr[data-testid]')].map((tr) => ({
      row: tr.dataset.testid,
      ...Object.fromEntries([...tr.querySelectorAll('[data-testid^="cell-"]')]
        .map((td) => [td.dataset.testid.slice(5), td.textContent.replace(/[\u2003▸▾]/g, '').trim()])),
    }));
  });
}
const rowsOf = (page, testid) => page.locator('#view').evaluate((view, id) =>
  [...view.querySelectorAll(`tr[data-testid="${id}"]`)].map((tr) => Object.fromEntries([...tr.querySelectorAll('[data-testid^="cell-"]')]
    .map((td) => [td.dataset.testid.slice(5), td.textContent.replace(/[\u2003▸▾]/g, '').trim()]))), testid);

export async function settled(page) {
  await page.waitForFunction(() => !document.querySelector('#view > p.muted'));
  await page.waitForTimeout(200);
}

// ---- Views --------------------------------------------------------------------------------

export async function checkOrgView(page, ask, vars) {
  const answer = await ask(queryOf('ORG_QUERY'), vars);
  check(!answer.errors, `Dashboard: ${JSON.stringify(answer.errors)}`);
  const usage = answer.data.organization.usage;
  for (const field of ['totalCapacity', 'consumed', 'remaining', 'allocated']) {
    same(await card(page, field), usage[field], `card ${field}`);
  }
  same(await card(page, 'capacityCard'), usage.capacityCard.value, 'capacity card');
  same(await text(page.locator('#org-cards [data-testid="status"]')), words(usage.status), 'organization status');
  await checkForecast(page.locator('#org-cards'), usage.forecast, 'the limit');
  const shown = await rowsOf(page, 'tenant-row');
  same(shown, usage.tenants.map((t) => ({
    displayName: t.displayName, status: words(t.status), allocated: t.allocated ?? '—', consumed: t.consumed,
    consumedFromOrganization: t.consumedFromOrganization, consumptionRate: percent(t.consumptionRate),
    remaining: t.remaining, overage: t.overage, runsOutOn: t.forecast.runsOutOn ?? '—',
  })), 'tenant rows');
  return usage;
}

async function checkForecast(scope, forecast, limitName) {
  const shown = await text(scope.locator('[data-testid="forecast"]'));
  const runsOut = forecast.runsOutOn ? `exceeds ${limitName} on ${forecast.runsOutOn}` : `stays within ${limitName} in this bundle`;
  same(shown, `At ${forecast.dailyRate} a day: ${forecast.projected} by the bundle's end; ${runsOut}.`, 'forecast');
}

const bucketRows = (buckets) => buckets.map((b) => ({ start: b.start, end: b.end, consumed: b.consumed }));
const serviceRows = (byService) => byService.services.map((s) => ({ name: s.service.name, consumed: s.consumed, share: percent(s.share) }));
const folderRows = (folders) => folders.flatMap((f) => [
  { name: f.folder ? f.folder.name : 'No folder', consumed: f.consumed }, ...folderRows(f.children || [])]);
const processRows = (processes) => processes.map((p) => ({ name: p.process.name, own: p.own, consumed: p.consumed }));

export async function checkTenantView(page, ask, vars) {
  const answer = await ask(queryOf('TENANT_QUERY'), vars);
  check(!answer.errors, `TenantView: ${JSON.stringify(answer.errors)}`);
  const t = answer.data.organization.usage.tenant;
  for (const f of ['consumed', 'remaining', 'overage', 'availableForAllocation']) same(await card(page, f), t[f], `tenant card ${f}`);
  same(await card(page, 'allocated'), t.allocated ?? '—', 'tenant card allocated');
  await checkForecast(page.locator('#tenant-cards'), t.forecast, 'the allocation');
  same(await rowsOf(page, 'bucket-row'), bucketRows(t.distribution), 'distribution');
  same(await rowsOf(page, 'service-row'), serviceRows(t.byService), 'services');
  const folders = await rowsOf(page, 'folder-row');
  same(folders, folderRows(t.folders), 'folders');
  const processes = await rowsOf(page, 'process-row');
  same(processes, processRows(t.processes.edges.map((e) => e.node)), 'processes');
  return { folders, processes, tenant: t };
}

export async function checkFolderView(page, ask, vars) {
  const answer = await ask(queryOf('FOLDER_QUERY'), vars);
  check(!answer.errors, `FolderView: ${JSON.stringify(answer.errors)}`);
  const f = answer.data.organization.usage.folder;
  same(await text(page.locator('[data-testid="folder-consumed"]')), f.consumed, 'folder consumed');
  same(await rowsOf(page, 'bucket-row'), bucketRows(f.distribution), 'folder distribution');
  same(await rowsOf(page, 'service-row'), serviceRows(f.byService), 'folder services');
  same(await rowsOf(page, 'folder-row'), folderRows(f.children), 'subfolders');
  same(await rowsOf(page, 'process-row'), processRows(f.processes), 'folder processes');
  return f;
}

export async function checkUsageView(page, ask, vars) {
  const answer = await ask(queryOf('PANEL_QUERY'), vars);
  check(!answer.errors, `Panel: ${JSON.stringify(answer.errors)}`);
  const { quota: q, activity: a } = answer.data.organization;
  same(await text(page.locator('[data-testid="quota-used"] .value')), q.used, 'quota used');
  same(await page.locator('[data-testid="quota-used"]').getAttribute('title'), `Remaining: ${q.remaining}`, 'remaining on hover');
  same(await text(page.locator('[data-testid="quota-resets"]')), q.resetsOn, 'reset date');
  same(await rowsOf(page, 'week-row'), a.weeks.map((w) => ({
    weekStart: w.weekStart, runs: String(w.runs), executions: w.executions, uploads: w.uploads,
    duration: `${(w.durationSeconds / 3600).toFixed(1)} h`,
  })), 'weeks');
  const last = a.precedingWeek;
  const lastWeek = await text(page.locator('[data-testid="last-week"]'));
  check(lastWeek.includes(`${last.runs} runs, ${last.executions} executions, ${last.uploads} uploads`), `last week: ${lastWeek}`);
  return answer.data.organization;
}

export async function checkNotificationsView(page, ask, vars) {
  const all = [];
  for (let after = null; ;) {
    const answer = await ask(queryOf('NOTIFICATIONS_QUERY'), { ...vars, after });
    check(!answer.errors, `Notifications: ${JSON.stringify(answer.errors)}`);
    const page = answer.data.organization.notifications;
    all.push(...page.nodes);
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  const shown = (await rowsOf(page, 'notification-row')).map((r) => r.kind);
  same(shown, all.slice(-100).reverse().map((n) => words(n.kind)), 'notifications, newest first');
  return all;
}

// ---- CSV ----------------------------------------------------------------------------------

// RFC 4180 as the server writes it: quoted fields may hold commas, quotes and line breaks.
export function parseCsv(textBody) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < textBody.length; i += 1) {
    const c = textBody[i];
    if (quoted) {
      if (c === '"' && textBody[i + 1] === '"') { field += '"'; i += 1; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && textBody[i + 1] === '\n') i += 1;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row); }
  const [header, ...lines] = rows;
  return lines.map((line) => Object.fromEntries(header.map((name, i) => [name, line[i]])));
}

// What each report's rows must equal: the shown rows (or cards) it stands for.
const CSV_MATCHES = {
  summary: async (page, csv) => {
    check(csv.length === 1, `summary.csv has ${csv.length} rows`);
    const [row] = csv;
    same([row.total_capacity, row.consumed, row.remaining, row.allocated, row.capacity_card_value, words(row.status)],
      [await card(page, 'totalCapacity'), await card(page, 'consumed'), await card(page, 'remaining'), await card(page, 'allocated'),
        await card(page, 'capacityCard'), await text(page.locator('#org-cards [data-testid="status"]'))], 'summary.csv');
  },
  tenants: async (page, csv, shown) => same(csv.map((r) => ({
    displayName: r.display_name, status: words(r.status), allocated: r.allocated || '—', consumed: r.consumed,
    consumedFromOrganization: r.consumed_from_organization, remaining: r.remaining, overage: r.overage,
  })), shown.map(({ displayName, status, allocated, consumed, consumedFromOrganization, remaining, overage }) =>
    ({ displayName, status, allocated, consumed, consumedFromOrganization, remaining, overage })), 'tenants.csv'),
  distribution: async (page, csv, shown) => same(csv.map((r) => ({ start: r.start, end: r.end, consumed: r.consumed })),
    shown.filter((r) => r.row === 'bucket-row').map(({ start, end, consumed }) => ({ start, end, consumed })), 'distribution.csv'),
  services: async (page, csv, shown) => same(csv.map((r) => ({ name: r.name, consumed: r.consumed })),
    shown.map(({ name, consumed }) => ({ name, consumed })), 'services.csv'),
  folders: async (page, csv, shown) => same(csv.map((r) => ({ name: r.folder || 'No folder', consumed: r.consumed })),
    shown.map(({ name, consumed }) => ({ name, consumed })), 'folders.csv'),
  // The page shows the first 20 processes; the file has them all, each chain under its root.
  processes: async (page, csv, shown) => {
    const top = shown.filter((r) => r.row === 'process-row');
    same(csv.filter((r) => r.depth === '0').slice(0, top.length).map((r) => ({ name: r.process, own: r.own, consumed: r.consumed })),
      top.map(({ name, own, consumed }) => ({ name, own, consumed })), 'processes.csv');
  },
  quota: async (page, csv) => {
    const current = csv.find((r) => r.current === 'true');
    same([current?.used, `Remaining: ${current?.remaining}`],
      [await text(page.locator('[data-testid="quota-used"] .value')), await page.locator('[data-testid="quota-used"]').getAttribute('title')], 'quota.csv');
  },
  activity: async (page, csv, shown) => same(csv.map((r) => ({ weekStart: r.week_start, runs: r.runs, executions: r.executions, uploads: r.uploads })),
    shown.map(({ weekStart, runs, executions, uploads }) => ({ weekStart, runs, executions, uploads })), 'activity.csv'),
  notifications: async (page, csv, shown) => same(csv.slice(-100).reverse().map((r) => words(r.kind)), shown.map((r) => r.kind), 'notifications.csv'),
};

// Clicks every CSV button of the view and compares each download with what the page shows.
export async function checkCsvButtons(page) {
  const buttons = page.locator('button[data-testid^="csv-"]');
  const count = await buttons.count();
  for (let i = 0; i < count; i += 1) {
    const button = buttons.nth(i);
    const report = (await button.getAttribute('data-testid')).slice(4);
    const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
    const name = download.suggestedFilename();
    check(name.endsWith('.csv') && name.includes(`-${report}`), `${report}: saved as ${name}`);
    const csv = parseCsv(readFileSync(await download.path(), 'utf8'));
    check(CSV_MATCHES[report], `no comparison for ${report}.csv`);
    await CSV_MATCHES[report](page, csv, await rowsIn(button));
  }
  return count;
}
