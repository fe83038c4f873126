// The reference dashboard: every figure comes from the public API with the key the user
// typed in, one documented query per view (docs/dashboard.md). The views are picked by the
// URL hash, so a view can be bookmarked and the back button works.

const KEY = 'quotagraph.key';
const ORG = 'quotagraph.org';
const UNIT = 'test-executions';

const state = { key: sessionStorage.getItem(KEY), org: sessionStorage.getItem(ORG), tenant: null, orgs: null, units: [UNIT], socket: null };
const $ = (id) => document.getElementById(id);

// DOM built from nodes, never from HTML strings: names come from the API and stay text.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'testid') el.dataset.testid = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

async function gql(query, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${state.key}` },
    body: JSON.stringify({ query, variables }),
  });
  const answer = await response.json();
  if (response.status === 401) signOut('The key was refused.');
  return answer;
}

// The route: `#/<view>/<id>?<params>`; the params (unit, bundle, range, toggles) travel
// with every link, so moving between views keeps the period.
function route() {
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const [, view = '', id = ''] = path.split('/');
  return { view, id: decodeURIComponent(id), params: new URLSearchParams(query) };
}

function link(view, id, changes = {}) {
  const params = new URLSearchParams(route().params);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null || value === '') params.delete(name);
    else params.set(name, value);
  }
  const query = params.toString();
  return `#/${view}${id ? `/${encodeURIComponent(id)}` : ''}${query ? `?${query}` : ''}`;
}

// The period every view reads: unit type, bundle (its start date) and an optional range.
function period(params) {
  const from = params.get('from');
  const to = params.get('to');
  return {
    unit: params.get('unit') || state.units[0] || UNIT,
    bundle: params.get('bundle') || null,
    range: from && to ? { from, to } : null,
  };
}

// One CSV export through an export link (createExportLink): a plain download that needs no
// header, saved under the name the server gives it (Content-Disposition).
const EXPORT_LINK = 'mutation($input: CreateExportLinkInput!) { createExportLink(input: $input) { url expiresAt } }';
// The export's parameters as createExportLink names them; activity's `weeks` is left at its
// default, the 12 weeks the page shows.
const LINK_FIELDS = {
  organization: 'organizationId', tenant: 'tenantId', folder: 'folderId', unitType: 'unitType', bundle: 'bundle',
  from: 'from', to: 'to', attribution: 'attribution', granularity: 'granularity',
};

export async function downloadCsv(report, params) {
  const input = { report };
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '' && LINK_FIELDS[name]) input[LINK_FIELDS[name]] = value;
  }
  const answer = await gql(EXPORT_LINK, { input });
  if (answer.errors) throw new Error(`${report}.csv: ${answer.errors[0].message}`);
  const a = h('a', { href: answer.data.createExportLink.url, download: '' });
  document.body.append(a);
  a.click();
  a.remove();
}

function csvButton(report, what, params) {
  const p = period(route().params);
  const base = { organization: state.org, unitType: p.unit, bundle: p.bundle, from: p.range?.from, to: p.range?.to };
  return h('button', {
    type: 'button', class: 'csv', 'aria-label': `Download ${what} as CSV`, testid: `csv-${report}`,
    onclick: () => downloadCsv(report, { ...base, ...params }).catch((e) => showError(e.message)),
  }, 'CSV');
}

const badge = (status) => h('span', { class: `badge ${status}`, testid: 'status' }, status.replaceAll('_', ' '));
const percent = (ratio) => (ratio === null || ratio === undefined ? '—' : `${(ratio * 100).toFixed(1)}%`);
const figure = (testid, label, value, title) =>
  h('div', { class: 'card figure', testid: `card-${testid}`, title },
    h('div', { class: 'label' }, label), h('div', { class: 'value', testid: 'value' }, value ?? '—'));

function table(caption, columns, rows, rowTestid) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, columns.map(([label, , num]) => h('th', { scope: 'col', class: num ? 'num' : null }, label)))),
    h('tbody', {}, rows.length === 0
      ? h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, 'Nothing here.'))
      : rows.map((row) => h('tr', { testid: rowTestid },
        columns.map(([, cell, num, field]) => h('td', { class: num ? 'num' : null, testid: field ? `cell-${field}` : null }, cell(row))))))));
}

function section(title, actions, ...content) {
  return h('section', { class: 'card section' }, h('div', { class: 'section-head' }, h('h2', {}, title), actions), ...content);
}

// A bar chart of dated buckets (uPlot). Buckets are drawn side by side, one slot each and
// labelled by their first day, since a bundle's first and last weeks are partial and a time
// axis would draw them as thin slivers. The page stays usable when uPlot has not loaded.
function barChart(label, buckets, value) {
  const box = h('div', { class: 'chart', role: 'img', 'aria-label': label });
  if (!window.uPlot || buckets.length === 0) return box;
  const days = buckets.map((b) => (b.start || b.weekStart).slice(5));
  const xs = buckets.map((_, i) => i);
  const ys = buckets.map((b) => Number(value(b)));
  requestAnimationFrame(() => {
    const plot = new window.uPlot({
      width: Math.max(240, box.clientWidth), height: 200, legend: { show: false }, cursor: { show: true, points: { show: false } },
      scales: { x: { time: false, range: [-0.5, buckets.length - 0.5] } },
      series: [{}, { label, fill: 'rgba(45,91,215,.55)', stroke: '#2d5bd7', points: { show: false },
        paths: window.uPlot.paths.bars({ size: [0.7, 48] }) }],
      axes: [
        { splits: (u) => { const step = Math.ceil((buckets.length * 48) / u.width); return xs.filter((i) => i % step === 0); },
          values: (_, splits) => splits.map((i) => days[i] ?? '') },
        { size: 56 },
      ],
    }, [xs, ys], box);
    // Follows its card's width (a phone turned, a window resized).
    new ResizeObserver(() => plot.setSize({ width: Math.max(240, box.clientWidth), height: 200 })).observe(box);
  });
  return box;
}

// A bundle's `endDate` is the first day after it; people read a period by its last day.
function lastDay(endDate) {
  const day = new Date(`${endDate}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() - 1);
  return day.toISOString().slice(0, 10);
}

function controls(params, bundles) {
  const p = period(params);
  const go = (changes) => { location.hash = link(route().view, route().id, changes); };
  const from = h('input', { id: 'from', type: 'date', value: p.range?.from || '' });
  const to = h('input', { id: 'to', type: 'date', value: p.range?.to || '' });
  return h('form', { class: 'controls', onsubmit: (e) => { e.preventDefault(); go({ from: from.value, to: to.value }); } },
    h('label', { for: 'unit' }, 'Unit type', h('select', { id: 'unit', onchange: (e) => go({ unit: e.target.value, bundle: null, from: null, to: null }) },
      state.units.map((u) => h('option', { value: u, selected: u === p.unit }, u)))),
    bundles && h('label', { for: 'bundle' }, 'Bundle', h('select', { id: 'bundle', onchange: (e) => go({ bundle: e.target.value, from: null, to: null }) },
      bundles.map((b, i) => h('option', { value: i === 0 ? '' : b.startDate, selected: (p.bundle || '') === (i === 0 ? '' : b.startDate) },
        `${b.startDate} – ${lastDay(b.endDate)}${b.current ? ' (current)' : ''}`)))),
    h('label', { for: 'from' }, 'From', from),
    h('label', { for: 'to' }, 'To', to),
    h('button', { type: 'submit' }, 'Apply range'),
    p.range && h('button', { type: 'button', onclick: () => go({ from: null, to: null }) }, 'Whole bundle'));
}

// ---- 1. Organization -------------------------------------------------------------------

const ORG_QUERY = `query Dashboard($org: ID!, $unit: String!, $bundle: Date, $range: DateRangeInput, $states: [TenantState!]) {
  organization(id: $org) {
    name
    bundles(unitType: $unit) { startDate endDate current }
    usage(unitType: $unit, bundle: $bundle, range: $range) {
      from to totalCapacity limit burstActive consumed consumedFromAllocated consumedFromOrganization
      remaining allocated availableForAllocation overage overAllocation status
      capacityCard { mode value }
      breakdown { consumedFromAllocated consumedFromOrganization remaining }
      forecast { dailyRate projected runsOutOn }
      tenants(states: $states) { tenant { id } displayName allocated consumed consumedFromAllocated consumedFromOrganization
                consumptionRate remaining overage status forecast { runsOutOn } }
    }
  }
}`;

// Where the last 14 days' pace leads by the bundle's end (docs/design.md §15.6).
function forecastLine(forecast, limitName) {
  return h('p', { class: 'forecast', testid: 'forecast' },
    `At ${forecast.dailyRate} a day: ${forecast.projected} by the bundle's end; `,
    forecast.runsOutOn
      ? h('strong', { testid: 'runs-out' }, `exceeds ${limitName} on ${forecast.runsOutOn}`)
      : h('span', { testid: 'runs-out' }, `stays within ${limitName} in this bundle`), '.');
}

function orgCards(usage) {
  const cap = Number(usage.burstActive ? usage.limit : usage.totalCapacity) || 1;
  const share = (v) => `${Math.min(100, (Number(v) / cap) * 100)}%`;
  const alloc = h('span', { class: 'alloc', title: `From allocations: ${usage.breakdown.consumedFromAllocated}` });
  const pool = h('span', { class: 'pool', title: `From the organization: ${usage.breakdown.consumedFromOrganization}` });
  alloc.style.width = share(usage.breakdown.consumedFromAllocated);
  pool.style.width = share(usage.breakdown.consumedFromOrganization);
  const over = usage.capacityCard.mode === 'OVER_ALLOCATION';
  return h('div', { id: 'org-cards' },
    h('div', { class: 'cards' },
      figure('totalCapacity', usage.burstActive ? `Capacity (limit ${usage.limit} with burst)` : 'Capacity', usage.totalCapacity),
      figure('consumed', 'Consumed', usage.consumed),
      figure('remaining', 'Remaining', usage.remaining),
      figure('allocated', 'Allocated', usage.allocated),
      figure('capacityCard', over ? 'Over-allocation' : 'Available for allocation', usage.capacityCard.value)),
    h('div', { class: 'card section' },
      h('div', { class: 'section-head' }, h('h2', {}, `Capacity ${usage.from} – ${usage.to}`),
        h('span', {}, badge(usage.status), ' ', csvButton('summary', 'the cards', {}))),
      h('div', { class: 'bar', role: 'img', 'aria-label': `${usage.consumed} consumed of ${usage.totalCapacity}` }, alloc, pool),
      h('div', { class: 'legend' }, h('span', {}, `From allocations ${usage.breakdown.consumedFromAllocated}`),
        h('span', {}, `From the organization ${usage.breakdown.consumedFromOrganization}`),
        h('span', {}, `Remaining ${usage.breakdown.remaining}`)),
      forecastLine(usage.forecast, 'the limit')));
}

function tenantTable(usage) {
  const columns = [
    ['Tenant', (t) => h('a', { href: link('tenant', t.tenant.id) }, t.displayName), false, 'displayName'],
    ['Status', (t) => badge(t.status), false, 'status'],
    ['Allocated', (t) => t.allocated ?? '—', true, 'allocated'],
    ['Consumed', (t) => t.consumed, true, 'consumed'],
    ['From pool', (t) => t.consumedFromOrganization, true, 'consumedFromOrganization'],
    ['Rate', (t) => percent(t.consumptionRate), true, 'consumptionRate'],
    ['Remaining', (t) => t.remaining, true, 'remaining'],
    ['Overage', (t) => t.overage, true, 'overage'],
    ['Runs out', (t) => t.forecast.runsOutOn ?? '—', true, 'runsOutOn'],
  ];
  return table('Tenants', columns, usage.tenants, 'tenant-row');
}

async function orgView({ id, params }) {
  if (id) { state.org = id; sessionStorage.setItem(ORG, id); }
  const p = period(params);
  const stateFilter = params.get('state') || '';
  const answer = await gql(ORG_QUERY, { org: state.org, unit: p.unit, bundle: p.bundle, range: p.range, states: stateFilter ? [stateFilter] : null });
  const org = answer.data?.organization;
  if (!org) {
    const forbidden = answer.errors?.some((e) => e.extensions?.code === 'FORBIDDEN');
    return [h('h1', {}, 'Organization'), h('p', { class: 'forbidden' }, forbidden
      ? 'This key may not read the organization-wide figures.' : errorText(answer)),
    state.tenant && h('p', {}, h('a', { href: link('tenant', state.tenant.id) }, `Open ${state.tenant.name}`))];
  }
  const filter = h('select', { id: 'state', onchange: (e) => { location.hash = link('org', state.org, { state: e.target.value }); } },
    ['', 'ACTIVE', 'DISABLED', 'DELETED'].map((s) => h('option', { value: s, selected: s === stateFilter }, s || 'All states')));
  // A SYSTEM key belongs to no organization: it picks one.
  const picker = state.orgs && h('label', { for: 'org' }, 'Organization ', h('select', {
    id: 'org', onchange: async (e) => {
      state.org = e.target.value;
      await loadUnits();
      location.hash = link('org', e.target.value, { unit: null, bundle: null, from: null, to: null, state: null });
    },
  }, state.orgs.map((o) => h('option', { value: o.id, selected: o.id === state.org }, o.name))));
  return [
    h('div', { class: 'section-head' }, h('h1', {}, org.name), picker),
    controls(params, org.bundles),
    orgCards(org.usage),
    section('Tenants', h('span', {}, h('label', { for: 'state' }, 'State '), filter, ' ', csvButton('tenants', 'the tenants', {})),
      tenantTable(org.usage)),
  ];
}

// ---- 2. Tenant -------------------------------------------------------------------------

const TENANT_QUERY = `query TenantView($org: ID!, $tenant: ID!, $unit: String!, $bundle: Date, $range: DateRangeInput,
    $granularity: Granularity!, $attribution: Attribution!) {
  organization(id: $org) {
    usage(unitType: $unit, bundle: $bundle, range: $range) {
      tenant(id: $tenant) {
        displayName allocated consumed consumedFromAllocated consumedFromOrganization
        consumptionRate remaining overage availableForAllocation status
        forecast { dailyRate projected runsOutOn }
        distribution(granularity: $granularity) { start end consumed }
        byService { total services { service { code name } consumed share } }
        folders(attribution: $attribution) { folder { id name } consumed children { folder { id name } consumed } }
        processes(attribution: $attribution, first: 20) { edges { node { process { name } own consumed
          children { process { name } own consumed children { process { name } own consumed } } } } }
      }
    }
  }
}`;

function toggle(label, name, values, current) {
  return h('div', { class: 'toggle', role: 'group', 'aria-label': label }, values.map((v) =>
    h('button', { type: 'button', 'aria-pressed': String(v === current), testid: `${name}-${v}`,
      onclick: () => { location.hash = link(route().view, route().id, { [name]: v }); } }, v)));
}

function servicesTable(byService) {
  return table('By service', [
    ['Service', (s) => s.service.name, false, 'name'],
    ['Consumed', (s) => s.consumed, true, 'consumed'],
    ['Share', (s) => percent(s.share), true, 'share'],
  ], byService.services, 'service-row');
}

// Folder rows with their subfolders indented under them.
function folderRows(folders, depth = 0) {
  return folders.flatMap((f) => [{ ...f, depth }, ...folderRows(f.children || [], depth + 1)]);
}

function foldersTable(folders) {
  return table('Folders', [
    ['Folder', (f) => h('span', {}, '\u2003'.repeat(f.depth),
      f.folder ? h('a', { href: link('folder', f.folder.id) }, f.folder.name) : h('span', { class: 'muted' }, 'No folder')), false, 'name'],
    ['Consumed', (f) => f.consumed, true, 'consumed'],
  ], folderRows(folders), 'folder-row');
}

// A process chain: a row per process, the runs it started shown on demand (OWNERSHIP
// only). A row knows its depth, so closing it removes the deeper rows that follow it.
function processTable(processes) {
  const body = h('tbody', {});
  const row = (p, depth) => {
    const kids = p.children || [];
    const tr = h('tr', { testid: depth === 0 ? 'process-row' : 'process-child-row', 'data-depth': depth });
    const button = kids.length > 0 && h('button', {
      type: 'button', 'aria-expanded': 'false', 'aria-label': `Show the runs ${p.process.name} started`,
      onclick: () => {
        const open = button.getAttribute('aria-expanded') !== 'true';
        button.setAttribute('aria-expanded', String(open));
        button.textContent = open ? '▾' : '▸';
        if (open) tr.after(...kids.map((k) => row(k, depth + 1)));
        else while (Number(tr.nextElementSibling?.dataset.depth) > depth) tr.nextElementSibling.remove();
      },
    }, '▸');
    tr.append(
      h('td', { class: 'chain', testid: 'cell-name' }, '\u2003'.repeat(depth), button || '', p.process.name),
      h('td', { class: 'num', testid: 'cell-own' }, p.own),
      h('td', { class: 'num', testid: 'cell-consumed' }, p.consumed));
    return tr;
  };
  body.append(...processes.map((p) => row(p, 0)));
  if (processes.length === 0) body.append(h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'Nothing here.')));
  return h('div', { class: 'table-wrap' }, h('table', {}, h('caption', {}, 'Processes (top 20)'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Process'), h('th', { scope: 'col', class: 'num' }, 'Own'),
      h('th', { scope: 'col', class: 'num' }, 'Consumed'))), body));
}

function tenantCards(t) {
  return h('div', { id: 'tenant-cards' }, h('div', { class: 'cards' },
    figure('allocated', 'Allocated', t.allocated ?? '—'),
    figure('consumed', `Consumed (${percent(t.consumptionRate)} of allocation)`, t.consumed),
    figure('remaining', 'Remaining', t.remaining),
    figure('overage', 'Overage', t.overage),
    figure('availableForAllocation', 'Available for allocation', t.availableForAllocation)),
  forecastLine(t.forecast, 'the allocation'));
}

async function tenantView({ id, params }) {
  const p = period(params);
  const granularity = params.get('g') || 'WEEK';
  const attribution = params.get('attr') || 'EXECUTION';
  const answer = await gql(TENANT_QUERY, { org: state.org, tenant: id, unit: p.unit, bundle: p.bundle, range: p.range, granularity, attribution });
  const t = answer.data?.organization?.usage?.tenant;
  if (!t) return [h('h1', {}, 'Tenant'), h('p', { class: 'error' }, errorText(answer) || 'No such tenant.')];
  const scope = { tenant: id };
  return [
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, state.tenant ? '' : h('a', { href: link('org', state.org) }, '← Organization')),
    h('h1', {}, t.displayName, ' ', badge(t.status)),
    controls(params, null),
    tenantCards(t),
    h('div', { class: 'grid2' },
      section('Distribution', h('span', {}, toggle('Granularity', 'g', ['DAY', 'WEEK', 'MONTH'], granularity), ' ',
        csvButton('distribution', 'the distribution', { ...scope, granularity })),
      barChart(`Consumption by ${granularity.toLowerCase()}`, t.distribution, (b) => b.consumed),
      table('Buckets', [['Start', (b) => b.start, false, 'start'], ['End', (b) => b.end, false, 'end'], ['Consumed', (b) => b.consumed, true, 'consumed']], t.distribution, 'bucket-row')),
      section(`By service (total ${t.byService.total})`, csvButton('services', 'the services', scope), servicesTable(t.byService))),
    h('div', { class: 'section-head' }, h('h2', {}, 'Folders and processes'),
      toggle('Attribution', 'attr', ['EXECUTION', 'OWNERSHIP'], attribution)),
    h('div', { class: 'grid2' },
      section('Folders', csvButton('folders', 'the folders', { ...scope, attribution }), foldersTable(t.folders)),
      section('Processes', csvButton('processes', 'the processes', { ...scope, attribution }),
        processTable(t.processes.edges.map((e) => e.node)))),
  ];
}

// ---- 3. Folder -------------------------------------------------------------------------

const FOLDER_QUERY = `query FolderView($org: ID!, $folder: ID!, $unit: String!, $bundle: Date, $range: DateRangeInput,
    $granularity: Granularity!, $attribution: Attribution!) {
  organization(id: $org) {
    usage(unitType: $unit, bundle: $bundle, range: $range) {
      folder(id: $folder, attribution: $attribution) {
        folder { name tenant { id name } } consumed
        children { folder { id name } consumed }
        processes { process { name } own consumed children { process { name } own consumed } }
        distribution(granularity: $granularity) { start end consumed }
        byService { total services { service { code name } consumed share } }
      }
    }
  }
}`;

async function folderView({ id, params }) {
  const p = period(params);
  const granularity = params.get('g') || 'WEEK';
  const attribution = params.get('attr') || 'EXECUTION';
  const answer = await gql(FOLDER_QUERY, { org: state.org, folder: id, unit: p.unit, bundle: p.bundle, range: p.range, granularity, attribution });
  const f = answer.data?.organization?.usage?.folder;
  if (!f) return [h('h1', {}, 'Folder'), h('p', { class: 'error' }, errorText(answer) || 'No such folder.')];
  const tenant = f.folder?.tenant;
  const scope = { folder: id, attribution };
  return [
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      !state.tenant && h('a', { href: link('org', state.org) }, 'Organization'), !state.tenant && ' / ',
      tenant && h('a', { href: link('tenant', tenant.id) }, tenant.name)),
    h('h1', {}, f.folder?.name ?? 'Folder', ' ', h('span', { class: 'muted', testid: 'folder-consumed' }, f.consumed)),
    controls(params, null),
    h('div', { class: 'section-head' }, h('h2', {}, 'Attribution'), toggle('Attribution', 'attr', ['EXECUTION', 'OWNERSHIP'], attribution)),
    h('div', { class: 'grid2' },
      section('Distribution', h('span', {}, toggle('Granularity', 'g', ['DAY', 'WEEK', 'MONTH'], granularity), ' ',
        csvButton('distribution', 'the distribution', { ...scope, granularity })),
        barChart(`Consumption by ${granularity.toLowerCase()}`, f.distribution, (b) => b.consumed),
        table('Buckets', [['Start', (b) => b.start, false, 'start'], ['End', (b) => b.end, false, 'end'], ['Consumed', (b) => b.consumed, true, 'consumed']], f.distribution, 'bucket-row')),
      section(`By service (total ${f.byService.total})`, csvButton('services', 'the services', scope), servicesTable(f.byService))),
    h('div', { class: 'grid2' },
      section('Subfolders', csvButton('folders', 'the subfolders', scope), foldersTable(f.children)),
      section('Processes', csvButton('processes', 'the processes', scope), processTable(f.processes))),
  ];
}

// ---- 4. Test platform usage ------------------------------------------------------------

const PANEL_QUERY = `query Panel($org: ID!, $unit: String!) {
  organization(id: $org) {
    quota(unitType: $unit) { used quota limit remaining burstActive enforced periodStart periodEnd resetsOn }
    activity(unitType: $unit, weeks: 12) {
      weeks { weekStart runs executions uploads durationSeconds }
      precedingWeek { weekStart runs executions uploads durationSeconds }
    }
  }
}`;

// The quota and activity exports are refused a bundle or a range: they span their own.
const NO_PERIOD = { bundle: null, from: null, to: null };

async function usageView({ params }) {
  const unit = period(params).unit;
  const answer = await gql(PANEL_QUERY, { org: state.org, unit });
  const org = answer.data?.organization;
  const q = org?.quota;
  const a = org?.activity;
  const last = a?.precedingWeek;
  const hours = (s) => `${(s / 3600).toFixed(1)} h`;
  return [
    h('h1', {}, 'Test platform usage'),
    q ? section('Quota', csvButton('quota', 'the quota periods', NO_PERIOD),
      h('p', { class: 'figure', title: `Remaining: ${q.remaining}`, testid: 'quota-used', tabindex: '0' },
        h('span', { class: 'value' }, q.used), ` of ${q.quota} used`),
      h('p', {}, `Limit ${q.limit}${q.burstActive ? ' (burst active)' : ''}${q.enforced ? ', enforced' : ''}; resets on `,
        h('strong', { testid: 'quota-resets' }, q.resetsOn), ` (period ${q.periodStart} – ${q.periodEnd}).`))
      : h('p', { class: 'forbidden' }, 'The quota panel is organization-wide: this key may not read it.'),
    a && section('Weekly activity', csvButton('activity', 'the weekly activity', { ...NO_PERIOD, weeks: 12 }),
      barChart('Executions per week', a.weeks, (w) => w.executions),
      last && h('p', { testid: 'last-week' }, `Last week (from ${last.weekStart}): ${last.runs} runs, ${last.executions} executions, ${last.uploads} uploads, ${hours(last.durationSeconds)}.`),
      table('Weeks', [['Week of', (w) => w.weekStart, false, 'weekStart'], ['Runs', (w) => w.runs, true, 'runs'],
        ['Executions', (w) => w.executions, true, 'executions'], ['Uploads', (w) => w.uploads, true, 'uploads'],
        ['Duration', (w) => hours(w.durationSeconds), true, 'duration']], a.weeks, 'week-row')),
  ];
}

// ---- 5. Notifications ------------------------------------------------------------------

const NOTIFICATIONS_QUERY = `query Notifications($org: ID!, $after: String) {
  organization(id: $org) {
    tenants(first: 100) { nodes { id name } }
    notifications(first: 100, after: $after) {
      nodes { kind at tenantId unitType threshold previousStatus status consumed remaining }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;
const SHOWN_NOTIFICATIONS = 100;

// The history is oldest first: the view pages to its end and shows the latest.
async function notificationsView() {
  let answer = await gql(NOTIFICATIONS_QUERY, { org: state.org, after: null });
  const org = answer.data?.organization;
  if (!org) return [h('h1', {}, 'Notifications'), h('p', { class: 'error' }, errorText(answer))];
  let latest = org.notifications.nodes;
  for (let page = org.notifications.pageInfo; page.hasNextPage;) {
    answer = await gql(NOTIFICATIONS_QUERY, { org: state.org, after: page.endCursor });
    const next = answer.data?.organization?.notifications;
    if (!next) break;
    latest = [...latest, ...next.nodes].slice(-SHOWN_NOTIFICATIONS);
    page = next.pageInfo;
  }
  const names = new Map((org.tenants?.nodes || []).map((t) => [t.id, t.name]));
  const detail = (n) => [
    n.threshold !== null ? `threshold ${n.kind === 'THRESHOLD_CROSSED' ? percent(n.threshold) : n.threshold}` : null,
    n.status ? `${n.previousStatus ?? '?'} → ${n.status}` : null,
    n.consumed !== null ? `consumed ${n.consumed}` : null,
    n.remaining !== null ? `remaining ${n.remaining}` : null,
  ].filter(Boolean).join(', ');
  const rows = [...latest].reverse(); // newest first
  const csv = csvButton('notifications', 'the notifications', { bundle: null, from: null, to: null, unitType: null });
  return [h('h1', {}, 'Notifications'), section('Latest events', csv, table('Quota events, newest first', [
    ['Kind', (n) => n.kind.replaceAll('_', ' '), false, 'kind'], ['Time', (n) => new Date(n.at).toLocaleString(), false, 'at'],
    ['Tenant', (n) => (n.tenantId ? names.get(n.tenantId) ?? n.tenantId : 'Organization'), false, 'tenant'],
    ['Unit', (n) => n.unitType, false, 'unitType'], ['Figures', detail, false, 'figures']], rows, 'notification-row'))];
}

// ---- Live ------------------------------------------------------------------------------

const LIVE_QUERY = `subscription Live($org: ID!, $unit: String!) {
  usage(organizationId: $org, unitType: $unit) {
    from to totalCapacity limit burstActive consumed consumedFromAllocated consumedFromOrganization
    remaining allocated availableForAllocation overage overAllocation status
    capacityCard { mode value }
    breakdown { consumedFromAllocated consumedFromOrganization remaining }
    forecast { dailyRate projected runsOutOn }
  }
}`;
const EVENTS_QUERY = `subscription Events($org: ID!) { quotaEvents(organizationId: $org) { kind tenantId } }`;

let refreshTimer = null;
// A change somewhere: the organization's cards take the pushed figures at once (for the
// current bundle to date, which is what the subscription answers); any other view asks
// its query again, so it shows the same figures as when opened.
function onLiveUsage(usage) {
  const r = route();
  const p = period(r.params);
  const cards = $('org-cards');
  if (r.view === 'org' && cards && !p.bundle && !p.range) cards.replaceWith(orgCards(usage));
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => render(true), 150);
}

function connectLive() {
  if (state.socket) state.socket.close();
  if (!state.key || !state.org) return;
  const unit = period(route().params).unit;
  const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`, 'graphql-transport-ws');
  state.socket = socket;
  socket.unit = unit;
  const send = (message) => socket.send(JSON.stringify(message));
  socket.onopen = () => send({ type: 'connection_init', payload: { Authorization: `Bearer ${state.key}` } });
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'connection_ack') {
      $('live').textContent = '● live';
      send({ id: 'usage', type: 'subscribe', payload: { query: LIVE_QUERY, variables: { org: state.org, unit } } });
      send({ id: 'events', type: 'subscribe', payload: { query: EVENTS_QUERY, variables: { org: state.org } } });
    } else if (message.type === 'ping') {
      send({ type: 'pong' });
    } else if (message.type === 'next' && message.id === 'usage' && message.payload.data?.usage) {
      onLiveUsage(message.payload.data.usage);
    } else if (message.type === 'next' && message.id === 'events' && message.payload.data?.quotaEvents) {
      const e = message.payload.data.quotaEvents;
      $('live').textContent = `● ${e.kind.replaceAll('_', ' ').toLowerCase()}`;
      if (e.kind !== 'USAGE_RECORDED' && route().view === 'notifications') render(true);
    }
  };
  socket.onclose = () => {
    if (state.socket !== socket) return;
    $('live').textContent = '○ offline';
    setTimeout(() => { if (state.socket === socket) connectLive(); }, 3000);
  };
}

// ---- Shell -----------------------------------------------------------------------------

const VIEWS = { org: orgView, tenant: tenantView, folder: folderView, usage: usageView, notifications: notificationsView };

function errorText(answer) {
  return (answer.errors || []).map((e) => `${e.message} (${e.extensions?.code ?? 'error'})`).join('; ');
}

function showError(text) {
  $('view').prepend(h('p', { class: 'error', role: 'alert' }, text));
}

let rendering = 0;
async function render(quiet = false) {
  if (!state.key || !state.org) return;
  const r = route();
  if (!VIEWS[r.view]) {
    location.replace(state.tenant ? link('tenant', state.tenant.id) : link('org', state.org));
    return;
  }
  if (socketUnitChanged()) connectLive();
  for (const a of document.querySelectorAll('#nav a')) {
    a.href = a.dataset.view === 'org' ? link('org', state.org) : link(a.dataset.view, '');
    if (a.dataset.view === r.view) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const ticket = ++rendering;
  if (!quiet) $('view').replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  try {
    const nodes = await VIEWS[r.view](r);
    if (ticket !== rendering) return; // a newer navigation won
    const view = $('view');
    const focused = document.activeElement?.dataset?.testid;
    view.replaceChildren(...nodes.flat().filter(Boolean));
    view.dataset.view = r.view;
    if (focused) view.querySelector(`[data-testid="${focused}"]`)?.focus();
  } catch (error) {
    if (ticket === rendering) $('view').replaceChildren(h('p', { class: 'error', role: 'alert' }, String(error.message || error)));
  }
}

function socketUnitChanged() {
  return !state.socket || state.socket.unit !== period(route().params).unit;
}

function signOut(message = '') {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(ORG);
  Object.assign(state, { key: null, org: null, tenant: null, orgs: null });
  if (state.socket) { const s = state.socket; state.socket = null; s.close(); }
  $('view').replaceChildren();
  $('nav').hidden = true;
  $('signout').hidden = true;
  $('live').textContent = '';
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('key').focus();
}

// The unit types the organization holds licenses for (the test platform's first when it has
// one), for the unit-type picker.
async function loadUnits() {
  const answer = await gql('query Units($org: ID!) { organization(id: $org) { licenses { unitType { code } } } }', { org: state.org });
  const codes = [...new Set((answer.data?.organization?.licenses ?? []).map((l) => l.unitType.code))].sort();
  state.units = codes.length === 0 ? [UNIT] : [...codes.filter((c) => c === UNIT), ...codes.filter((c) => c !== UNIT)];
}

// Who the key is: its organization (a SYSTEM key picks one), and its tenant if limited.
async function start() {
  const answer = await gql('{ viewer { role organization { id } tenant { id name } } }');
  const viewer = answer.data?.viewer;
  if (!viewer) { signOut(errorText(answer) || 'The key was refused.'); return; }
  state.tenant = viewer.tenant;
  if (viewer.organization) state.org = viewer.organization.id;
  else {
    const orgs = await gql('{ organizations(first: 50) { nodes { id name } } }');
    state.orgs = orgs.data?.organizations?.nodes ?? [];
    if (!state.orgs.some((o) => o.id === state.org)) state.org = state.orgs[0]?.id ?? null;
    if (!state.org) { signOut('This key reads no organization.'); return; }
  }
  sessionStorage.setItem(ORG, state.org);
  await loadUnits();
  $('login').hidden = true;
  $('nav').hidden = false;
  $('signout').hidden = false;
  connectLive();
  render();
}

$('login').addEventListener('submit', (event) => {
  event.preventDefault();
  state.key = $('key').value.trim();
  $('key').value = '';
  sessionStorage.setItem(KEY, state.key);
  start();
});
$('signout').addEventListener('click', () => signOut());
window.addEventListener('hashchange', () => render());

if (state.key) start();
else signOut();
