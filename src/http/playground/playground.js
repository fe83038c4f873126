// quotagraph playground: a small GraphQL client served by quotagraph itself.
// No dependencies, no build step, nothing fetched from outside this server.
// Untrusted text (responses, schema descriptions) only ever goes through textContent.
'use strict';

(() => {
  const ENDPOINT = '/graphql';
  const STORE = { key: 'quotagraph.apiKey', query: 'quotagraph.query', vars: 'quotagraph.variables' };
  const ORG_NOTE = 'The first organization\u2019s id is filled in for $org automatically once the API key is set.';
  const MAX_EVENTS = 200;

  const $ = (id) => document.getElementById(id);
  const ui = {
    key: $('api-key'), keyToggle: $('key-toggle'), tabs: $('example-tabs'), run: $('run'),
    op: $('operation'), opKind: $('op-kind'), query: $('query'), vars: $('variables'),
    varsStatus: $('vars-status'), varsNote: $('vars-note'), status: $('status'), errors: $('errors'),
    result: $('result'), schemaToggle: $('schema-toggle'), schemaPanel: $('schema-panel'),
    schemaReload: $('schema-reload'), schemaFilter: $('schema-filter'), schemaList: $('schema-list'),
  };

  const load = (k) => { try { return localStorage.getItem(k); } catch { return null; } };
  const save = (k, v) => { try { if (v) localStorage.setItem(k, v); else localStorage.removeItem(k); } catch { /* private mode */ } };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }

  function debounce(fn, ms) {
    let t;
    return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
  }

  // ---------------------------------------------------------------- examples
  const EXAMPLES = [
    { name: 'Viewer', query: `{
  viewer {
    role
    organization { id name }
    tenant { id name }
  }
}
` },
    { name: 'Organizations', query: `query Organizations {
  organizations(first: 10) {
    edges { node { id name slug timeZone } }
    pageInfo { hasNextPage endCursor }
  }
}
` },
    { name: 'Tenants', org: true, query: `query Tenants($org: ID!) {
  organization(id: $org) {
    name
    tenants(first: 50) {
      edges { node { id name state } }
    }
  }
}
` },
    { name: 'Licenses and bundles', org: true, query: `query LicensesAndBundles($org: ID!) {
  organization(id: $org) {
    licenses {
      id planName capacity period startsOn endsOn
      burstPercent burstPeriods enforced
      unitType { code name }
    }
    bundles(unitType: "test-executions") {
      startDate endDate capacity current
    }
  }
}
` },
    { name: 'Dashboard', org: true, query: `query Dashboard($org: ID!) {
  organization(id: $org) {
    usage(unitType: "platform-units") {
      totalCapacity consumed consumedFromAllocated consumedFromOrganization
      remaining allocated availableForAllocation overage overAllocation status
      capacityCard { mode value }
      tenants {
        displayName allocated consumed consumptionRate remaining overage status
      }
    }
  }
}
` },
    { name: 'Record usage', query: `mutation RecordUsage($input: RecordUsageInput!) {
  recordUsage(input: $input) {
    accepted
    duplicates
  }
}
`,
      vars: () => ({ input: { events: [{
        idempotencyKey: 'playground-' + Date.now().toString(36), tenantId: '', unitType: 'platform-units',
        service: 'robots', quantity: '5', occurredAt: new Date().toISOString(), kind: 'EXECUTION',
      }] } }),
      note: 'Put a tenant id (see the \u201cTenants\u201d example) in tenantId. A service is created on first use; running the same idempotencyKey again counts as a duplicate.' },
    { name: 'Quota events', org: true, query: `subscription QuotaEvents($org: ID!) {
  quotaEvents(organizationId: $org) {
    kind at tenantId unitType threshold status consumed remaining
  }
}
`, note: 'Runs over WebSocket until you press Stop; record usage from another tab to see events arrive.' },
  ];

  // ------------------------------------------------------------- API key
  let orgId = null;
  let orgState = 'none'; // none | pending | found | empty | refused | failed
  let orgLookupKey = null;
  let currentNote = '';

  const apiKey = () => ui.key.value.trim();

  function authHeaders() {
    const h = { 'Content-Type': 'application/json', Accept: 'application/json' };
    const k = apiKey();
    if (k) h.Authorization = 'Bearer ' + k;
    return h;
  }

  ui.key.value = load(STORE.key) || '';
  ui.key.addEventListener('input', () => { save(STORE.key, apiKey()); lookupOrgSoon(); });
  ui.keyToggle.addEventListener('click', () => {
    const show = ui.key.type === 'password';
    ui.key.type = show ? 'text' : 'password';
    ui.keyToggle.textContent = show ? 'Hide' : 'Show';
    ui.keyToggle.setAttribute('aria-pressed', String(show));
  });

  // Runs `organizations(first: 1)` once per key and remembers the id for $org.
  async function lookupOrg() {
    const key = apiKey();
    if (!key || key === orgLookupKey) { if (!key) { orgLookupKey = null; orgId = null; orgState = 'none'; renderNote(); } return; }
    orgLookupKey = key; orgId = null; orgState = 'pending'; renderNote();
    try {
      const res = await fetch(ENDPOINT, { method: 'POST', headers: authHeaders(), cache: 'no-store',
        body: JSON.stringify({ query: '{ organizations(first: 1) { edges { node { id } } } }' }) });
      const json = await res.json();
      if (key !== apiKey()) return;
      const id = json && json.data && json.data.organizations && json.data.organizations.edges
        && json.data.organizations.edges[0] && json.data.organizations.edges[0].node.id;
      const codes = ((json && json.errors) || []).map((e) => e.extensions && e.extensions.code);
      if (id) { orgId = String(id); orgState = 'found'; fillOrg(); }
      else orgState = codes.includes('UNAUTHENTICATED') ? 'refused' : 'empty';
    } catch {
      if (key !== apiKey()) return;
      orgState = 'failed'; orgLookupKey = null; // allow a retry on the next change
    }
    renderNote();
  }
  const lookupOrgSoon = debounce(lookupOrg, 600);

  // Fill an empty "org" variable with the remembered id.
  function fillOrg() {
    if (!orgId) return;
    const v = readVariables();
    if (v.value && v.value.org === '') {
      v.value.org = orgId;
      ui.vars.value = JSON.stringify(v.value, null, 2);
      varsChanged();
    }
  }

  function renderNote() {
    const parts = [currentNote];
    if (/\$org\b/.test(ui.query.value)) {
      parts.push({
        none: 'Set the API key to fill $org.', pending: 'Looking up the first organization\u2026',
        found: 'First organization: ' + orgId + '.', empty: 'This key sees no organization.',
        refused: 'The API key was refused (UNAUTHENTICATED).', failed: 'Could not look up an organization.',
      }[orgState]);
    }
    ui.varsNote.textContent = parts.filter(Boolean).join(' ');
  }

  // ------------------------------------------------------------- editors
  function insertText(ta, text) {
    ta.focus();
    // execCommand keeps the browser's undo history; fall back when unsupported.
    if (!(document.execCommand && document.execCommand('insertText', false, text))) {
      ta.setRangeText(text, ta.selectionStart, ta.selectionEnd, 'end');
      ta.dispatchEvent(new Event('input'));
    }
  }

  function replaceText(ta, text) {
    ta.focus();
    ta.select();
    if (text === '' || !(document.execCommand && document.execCommand('insertText', false, text))) ta.value = text;
    ta.setSelectionRange(0, 0);
    ta.scrollTop = 0;
  }

  for (const ta of [ui.query, ui.vars]) {
    let escaped = false;
    ta.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') { e.preventDefault(); run(); return; }
      if (e.key === 'Escape') { escaped = true; return; }
      if (e.key === 'Tab' && !escaped && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        insertText(ta, '  ');
      }
      escaped = false;
    });
    ta.addEventListener('blur', () => { escaped = false; });
  }

  function readVariables() {
    const text = ui.vars.value.trim();
    if (!text) return { value: null };
    let v;
    try { v = JSON.parse(text); } catch (e) { return { error: 'Variables are not valid JSON: ' + e.message }; }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      return { error: 'Variables must be a JSON object, for example {"org": "\u2026"}.' };
    }
    return { value: v };
  }

  function varsChanged() {
    const v = readVariables();
    ui.vars.classList.toggle('invalid', Boolean(v.error));
    ui.varsStatus.className = 'vars-status ' + (v.error ? 'bad' : 'ok');
    ui.varsStatus.textContent = v.error ? v.error : (v.value ? 'valid JSON' : '');
    save(STORE.vars, ui.vars.value);
  }
  ui.vars.addEventListener('input', debounce(varsChanged, 250));
  ui.query.addEventListener('input', debounce(queryChanged, 200));

  // ------------------------------------------------------ operation scan
  // Finds top-level operations: blanks out strings and comments, then walks braces.
  function scanOperations(src) {
    const s = src.replace(/"""[\s\S]*?(?:"""|$)|"(?:[^"\\\n]|\\.)*"?|#[^\n]*/g, (m) => m.replace(/[^\n]/g, ' '));
    const ops = [];
    const word = /[_A-Za-z][_0-9A-Za-z]*/y;
    const name = /[\s,]*([_A-Za-z][_0-9A-Za-z]*)?/y;
    let depth = 0, paren = 0, pending = null;
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (c === '{') {
        if (depth === 0 && paren === 0) {
          if (!pending) ops.push({ type: 'query', name: null });
          else if (pending.type !== 'fragment') ops.push(pending);
          pending = null;
        }
        depth++;
      } else if (c === '}') depth = Math.max(0, depth - 1);
      else if (depth === 0 && c === '(') paren++;
      else if (depth === 0 && c === ')') paren = Math.max(0, paren - 1);
      else if (depth === 0 && paren === 0 && /[_A-Za-z]/.test(c) && !/[_0-9A-Za-z]/.test(s[i - 1] || '')) {
        word.lastIndex = i;
        const w = word.exec(s)[0];
        i = word.lastIndex - 1;
        if (!pending && /^(query|mutation|subscription|fragment)$/.test(w)) {
          name.lastIndex = word.lastIndex;
          const m = name.exec(s);
          pending = { type: w, name: m[1] || null };
          i = name.lastIndex - 1;
        }
      }
    }
    return ops;
  }

  let ops = [];
  let opSignature = '';

  function queryChanged() {
    ops = scanOperations(ui.query.value);
    const named = ops.filter((o) => o.name);
    const signature = ops.map((o) => o.type + ':' + (o.name || '')).join(',');
    if (signature !== opSignature) {
      opSignature = signature;
      const previous = ui.op.value;
      ui.op.replaceChildren();
      if (ops.length <= 1) {
        const only = ops[0];
        ui.op.append(new Option(only ? only.name || '(anonymous)' : '(none)', only && only.name ? only.name : ''));
        ui.op.disabled = true;
      } else {
        for (const o of named) ui.op.append(new Option(o.name + '  \u00b7 ' + o.type, o.name));
        if (!named.length) ui.op.append(new Option('(name your operations)', ''));
        ui.op.disabled = named.length === 0;
        if (named.some((o) => o.name === previous)) ui.op.value = previous;
      }
    }
    showOpKind();
    renderNote();
    save(STORE.query, ui.query.value);
  }

  function selectedOperation() {
    if (ops.length <= 1) return ops[0] || null;
    return ops.find((o) => o.name && o.name === ui.op.value) || null;
  }

  function showOpKind() {
    const op = selectedOperation();
    ui.opKind.textContent = op ? op.type : '';
    ui.opKind.className = 'badge ' + (op ? op.type : '');
  }
  ui.op.addEventListener('change', showOpKind);

  // ------------------------------------------------------------ results
  function setStatus(text, kind) {
    ui.status.textContent = text;
    ui.status.className = 'status ' + (kind || '');
  }

  function showErrors(errors, hint) {
    ui.errors.replaceChildren();
    ui.errors.hidden = !errors.length;
    for (const err of errors) {
      const row = el('div', 'error');
      const code = err && err.extensions && err.extensions.code;
      row.append(el('span', 'code-chip', code || 'ERROR'), el('span', 'error-msg', (err && err.message) || String(err)));
      if (err && Array.isArray(err.path)) row.append(el('span', 'error-path', 'at ' + err.path.join('.')));
      ui.errors.append(row);
    }
    const unauth = errors.some((e) => e && e.extensions && e.extensions.code === 'UNAUTHENTICATED');
    if (hint || (unauth && !apiKey())) ui.errors.append(el('p', 'error-hint', hint || 'Set the API key at the top of the page.'));
  }

  function jsonView(value) {
    const pre = el('pre', 'json');
    const text = JSON.stringify(value, null, 2);
    if (text === undefined || text.length > 300000) { pre.textContent = String(text); return pre; }
    const re = /("(?:[^"\\]|\\.)*")(\s*:)?|\b(?:true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
    let last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) pre.append(text.slice(last, m.index));
      if (m[1]) {
        pre.append(el('span', m[2] ? 'j-key' : 'j-str', m[1]));
        if (m[2]) pre.append(m[2]);
      } else pre.append(el('span', /\d/.test(m[0]) ? 'j-num' : 'j-lit', m[0]));
      last = re.lastIndex;
    }
    pre.append(text.slice(last));
    return pre;
  }

  function failure(message, kind) {
    showErrors([{ message, extensions: { code: kind || 'NOT_SENT' } }]);
    ui.result.replaceChildren();
  }

  // --------------------------------------------------------------- run
  let inflight = null;
  let sub = null;

  function run() {
    if (sub) { stopSubscription(); return; }
    queryChanged();
    if (!ui.query.value.trim()) { failure('The query is empty.'); setStatus('not sent', 'bad'); return; }
    const v = readVariables();
    varsChanged();
    if (v.error) { failure(v.error, 'INVALID_VARIABLES'); setStatus('not sent', 'bad'); ui.vars.focus(); return; }
    if (ops.length > 1 && !selectedOperation()) {
      failure('The document holds several operations: give each a name and pick one.'); setStatus('not sent', 'bad'); return;
    }
    const op = selectedOperation();
    const body = { query: ui.query.value, variables: v.value, operationName: op && op.name ? op.name : null };
    if (op && op.type === 'subscription') subscribe(body);
    else runHttp(body);
  }
  ui.run.addEventListener('click', run);

  async function runHttp(body) {
    if (inflight) inflight.abort();
    const ctrl = new AbortController();
    inflight = ctrl;
    setStatus('running\u2026', 'busy');
    const t0 = performance.now();
    let res, text;
    try {
      res = await fetch(ENDPOINT, { method: 'POST', headers: authHeaders(), body: JSON.stringify(body),
        signal: ctrl.signal, cache: 'no-store', credentials: 'same-origin' });
      text = await res.text();
    } catch (e) {
      if (ctrl.signal.aborted) return;
      inflight = null;
      failure('Network error: the server could not be reached (' + e.message + '). Is quotagraph still running?', 'NETWORK');
      setStatus('network error \u00b7 ' + Math.round(performance.now() - t0) + ' ms', 'bad');
      return;
    }
    inflight = null;
    const ms = Math.round(performance.now() - t0);
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    const errors = json && Array.isArray(json.errors) ? json.errors : [];
    const label = 'HTTP ' + res.status + (res.statusText ? ' ' + res.statusText : '') + ' \u00b7 ' + ms + ' ms';
    setStatus(label + (errors.length ? ' \u00b7 ' + errors.length + ' error' + (errors.length > 1 ? 's' : '') : ''),
      !res.ok ? 'bad' : errors.length ? 'warn' : 'ok');
    if (json === undefined) {
      showErrors([{ message: 'The server answered with a body that is not JSON.', extensions: { code: 'HTTP ' + res.status } }]);
      ui.result.replaceChildren(el('pre', 'json', text.slice(0, 20000) || '(empty body)'));
      return;
    }
    showErrors(errors);
    ui.result.replaceChildren(jsonView(json));
  }

  // ------------------------------------------------------- subscriptions
  function setRunMode(stop) {
    ui.run.textContent = stop ? 'Stop' : 'Run';
    ui.run.classList.toggle('danger', stop);
    ui.run.title = stop ? 'Stop the subscription (Ctrl/Cmd+Enter)' : 'Run (Ctrl/Cmd+Enter)';
  }

  const CLOSE_REASONS = { 4400: 'bad request', 4401: 'unauthorized', 4403: 'forbidden', 4408: 'connection_init timeout',
    4409: 'subscriber already exists', 4429: 'too many initialisation requests', 4500: 'internal server error', 1006: 'connection lost' };

  function subscribe(body) {
    if (inflight) { inflight.abort(); inflight = null; }
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + ENDPOINT;
    const list = el('ol', 'events');
    showErrors([]);
    ui.result.replaceChildren(list);
    let ws;
    try { ws = new WebSocket(url, 'graphql-transport-ws'); } catch (e) { failure('Could not open a WebSocket: ' + e.message, 'NETWORK'); return; }
    const s = { ws, list, count: 0, opened: false, acked: false, finished: false, stopped: false };
    sub = s;
    setRunMode(true);
    setStatus('connecting\u2026', 'busy');
    const send = (m) => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m)); };
    s.send = send;
    s.timer = setTimeout(() => {
      if (!s.acked && !s.finished) { s.finished = true; failure('The server did not acknowledge the connection within 10 s.', 'TIMEOUT'); ws.close(1000); }
    }, 10000);

    ws.onopen = () => {
      s.opened = true;
      const payload = {};
      if (apiKey()) payload.Authorization = 'Bearer ' + apiKey();
      send({ type: 'connection_init', payload });
      setStatus('waiting for connection_ack\u2026', 'busy');
    };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { addEvent(s, { unparsed: String(ev.data) }); return; }
      switch (msg.type) {
        case 'connection_ack':
          s.acked = true;
          clearTimeout(s.timer);
          send({ id: '1', type: 'subscribe', payload: body });
          setStatus('subscribed \u00b7 waiting for events', 'live');
          break;
        case 'ping': send({ type: 'pong' }); break;
        case 'next':
          s.count++;
          addEvent(s, msg.payload);
          setStatus('subscribed \u00b7 ' + s.count + ' event' + (s.count > 1 ? 's' : ''), 'live');
          break;
        case 'error':
          s.finished = true;
          showErrors(Array.isArray(msg.payload) ? msg.payload : [{ message: JSON.stringify(msg.payload) }]);
          setStatus('subscription error', 'bad');
          ws.close(1000);
          break;
        case 'complete':
          s.finished = true;
          setStatus('completed by the server \u00b7 ' + s.count + ' event' + (s.count === 1 ? '' : 's'), 'ok');
          ws.close(1000);
          break;
        default: break;
      }
    };
    ws.onclose = (ev) => {
      clearTimeout(s.timer);
      if (sub === s) { sub = null; setRunMode(false); }
      if (s.stopped || s.finished) return;
      const why = CLOSE_REASONS[ev.code] || '';
      const detail = 'code ' + ev.code + (why ? ', ' + why : '') + (ev.reason ? ': ' + ev.reason : '');
      const message = s.opened ? 'The subscription connection closed (' + detail + ').'
        : 'Could not open a WebSocket to ' + url + ' (' + detail + '). Is quotagraph still running?';
      showErrors([{ message, extensions: { code: s.opened ? 'CLOSED' : 'NETWORK' } }],
        ev.code === 4401 || ev.code === 4403 ? 'Check the API key at the top of the page.' : '');
      setStatus('disconnected', 'bad');
    };
  }

  function stopSubscription() {
    const s = sub;
    if (!s) return;
    s.stopped = true;
    if (s.acked) s.send({ id: '1', type: 'complete' });
    s.ws.close(1000, 'stopped');
    sub = null;
    setRunMode(false);
    setStatus('stopped \u00b7 ' + s.count + ' event' + (s.count === 1 ? '' : 's'), 'ok');
  }

  function addEvent(s, payload) {
    const item = el('li', 'event');
    const now = new Date();
    const head = el('div', 'event-head');
    head.append(el('span', 'event-n', '#' + (s.count || '?')),
      el('time', 'event-time', now.toLocaleTimeString(undefined, { hour12: false }) + '.' + String(now.getMilliseconds()).padStart(3, '0')));
    item.append(head);
    const errs = payload && Array.isArray(payload.errors) ? payload.errors : [];
    for (const e of errs) {
      const row = el('div', 'error');
      row.append(el('span', 'code-chip', (e.extensions && e.extensions.code) || 'ERROR'), el('span', 'error-msg', e.message));
      item.append(row);
    }
    item.append(jsonView(payload));
    s.list.prepend(item);
    while (s.list.children.length > MAX_EVENTS) s.list.lastElementChild.remove();
  }

  // ------------------------------------------------------------- tabs
  function loadDocument(query, vars, note, activeButton) {
    if (sub) stopSubscription();
    replaceText(ui.vars, vars);
    replaceText(ui.query, query);
    currentNote = note || '';
    for (const b of ui.tabs.children) b.setAttribute('aria-pressed', String(b === activeButton));
    varsChanged();
    queryChanged();
  }

  for (const ex of EXAMPLES) {
    const b = el('button', 'tab', ex.name);
    b.type = 'button';
    b.setAttribute('aria-pressed', 'false');
    b.addEventListener('click', () => {
      if (ex.org && orgState === 'failed') lookupOrg();
      const vars = ex.vars ? ex.vars() : ex.org ? { org: orgId || '' } : null;
      const note = [ex.org ? ORG_NOTE : '', ex.note || ''].filter(Boolean).join(' ');
      loadDocument(ex.query, vars ? JSON.stringify(vars, null, 2) : '', note, b);
    });
    ui.tabs.append(b);
  }

  // ------------------------------------------------------------ schema
  const INTROSPECTION = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types {
      kind name description
      fields(includeDeprecated: true) {
        name description isDeprecated deprecationReason
        args { name description defaultValue type { ...ArgTypeRef } }
        type { ...TypeRef }
      }
      inputFields { name description defaultValue type { ...TypeRef } }
      interfaces { name }
      possibleTypes { name }
      enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
    }
  }
}
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
}
fragment ArgTypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name } } }
}`;
  // Depth: __schema > types > fields > args > type > ofType x3 > name = 9 levels at most.

  let schema = null;
  let typeNodes = new Map();

  const KIND_LABEL = { OBJECT: 'type', INPUT_OBJECT: 'input', ENUM: 'enum', SCALAR: 'scalar', INTERFACE: 'interface', UNION: 'union' };
  const namedType = (t) => { while (t && t.ofType) t = t.ofType; return t || {}; };
  const typeStr = (t) => !t ? '\u2026' : t.kind === 'NON_NULL' ? typeStr(t.ofType) + '!'
    : t.kind === 'LIST' ? '[' + typeStr(t.ofType) + ']' : t.name || '\u2026';
  const isLeaf = (t) => { const k = (schema.byName.get(namedType(t).name) || {}).kind; return k === 'SCALAR' || k === 'ENUM'; };
  const isRequired = (a) => a.type.kind === 'NON_NULL' && a.defaultValue == null;

  async function loadSchema() {
    ui.schemaList.replaceChildren(el('p', 'placeholder', 'Loading the schema\u2026'));
    let json;
    try {
      const res = await fetch(ENDPOINT, { method: 'POST', headers: authHeaders(), cache: 'no-store',
        body: JSON.stringify({ query: INTROSPECTION, operationName: 'IntrospectionQuery' }) });
      json = await res.json();
    } catch (e) {
      ui.schemaList.replaceChildren(el('p', 'schema-error', 'Could not load the schema: ' + e.message));
      return;
    }
    if (!json || !json.data || !json.data.__schema) {
      const msgs = ((json && json.errors) || []).map((e) => ((e.extensions && e.extensions.code) || 'ERROR') + ': ' + e.message);
      ui.schemaList.replaceChildren(el('p', 'schema-error', 'Could not load the schema. ' + (msgs.join(' ') || 'No data.')));
      return;
    }
    schema = json.data.__schema;
    schema.byName = new Map(schema.types.map((t) => [t.name, t]));
    renderSchema();
  }

  function rootKindOf(typeName) {
    if (!schema) return null;
    if (schema.queryType && schema.queryType.name === typeName) return 'query';
    if (schema.mutationType && schema.mutationType.name === typeName) return 'mutation';
    if (schema.subscriptionType && schema.subscriptionType.name === typeName) return 'subscription';
    return null;
  }

  function typeLink(t) {
    const b = el('button', 'type-link', typeStr(t));
    b.type = 'button';
    b.addEventListener('click', () => revealType(namedType(t).name));
    return b;
  }

  function revealType(name) {
    if (!typeNodes.has(name)) { ui.schemaFilter.value = ''; renderSchema(); }
    const node = typeNodes.get(name);
    if (node) { node.open = true; node.scrollIntoView({ block: 'start', behavior: 'smooth' }); }
  }

  function renderSchema() {
    if (!schema) return;
    const f = ui.schemaFilter.value.trim().toLowerCase();
    const hit = (x) => x.name.toLowerCase().includes(f) || (x.description || '').toLowerCase().includes(f);
    const rank = (t) => { const r = rootKindOf(t.name); return r === 'query' ? 0 : r === 'mutation' ? 1 : r === 'subscription' ? 2 : 3; };
    const types = schema.types.filter((t) => !t.name.startsWith('__'))
      .sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
    typeNodes = new Map();
    const frag = document.createDocumentFragment();
    for (const t of types) {
      const whole = !f || t.name.toLowerCase().includes(f);
      const fields = (t.fields || t.inputFields || []).filter((x) => whole || hit(x));
      const values = (t.enumValues || []).filter((x) => whole || hit(x));
      if (!whole && !fields.length && !values.length) continue;
      const root = rootKindOf(t.name);
      const box = el('details', 'type-box');
      box.open = Boolean(f) || root === 'query';
      const summary = el('summary');
      summary.append(el('span', 'kind kind-' + t.kind.toLowerCase(), root || KIND_LABEL[t.kind] || t.kind), el('span', 'type-name', t.name));
      box.append(summary);
      if (t.description) box.append(el('p', 'desc', t.description));
      const rel = (t.interfaces || []).length ? 'implements ' + t.interfaces.map((i) => i.name).join(' & ')
        : (t.possibleTypes || []).length ? '= ' + t.possibleTypes.map((i) => i.name).join(' | ') : '';
      if (rel) box.append(el('p', 'rel', rel));
      const ul = el('ul', 'fields');
      for (const fd of fields) ul.append(fieldRow(fd, root));
      for (const ev of values) {
        const li = el('li', 'field' + (ev.isDeprecated ? ' deprecated' : ''));
        li.append(el('span', 'field-name', ev.name));
        if (ev.description) li.append(el('div', 'desc', ev.description));
        ul.append(li);
      }
      if (ul.children.length) box.append(ul);
      typeNodes.set(t.name, box);
      frag.append(box);
    }
    if (!typeNodes.size) frag.append(el('p', 'placeholder', 'Nothing matches \u201c' + ui.schemaFilter.value + '\u201d.'));
    ui.schemaList.replaceChildren(frag);
  }

  function fieldRow(fd, root) {
    const li = el('li', 'field' + (fd.isDeprecated ? ' deprecated' : ''));
    const sig = el('div', 'sig');
    if (root) {
      const b = el('button', 'field-name insert', fd.name);
      b.type = 'button';
      b.title = 'Load a ' + root + ' skeleton for ' + fd.name;
      b.addEventListener('click', () => insertSkeleton(root, fd));
      sig.append(b);
    } else sig.append(el('span', 'field-name', fd.name));
    if (fd.args && fd.args.length) {
      sig.append('(');
      fd.args.forEach((a, i) => {
        if (i) sig.append(', ');
        sig.append(el('span', 'arg-name', a.name), ': ', typeLink(a.type));
        if (a.defaultValue != null) sig.append(' = ' + a.defaultValue);
      });
      sig.append(')');
    }
    sig.append(': ', typeLink(fd.type));
    if (fd.defaultValue != null) sig.append(' = ' + fd.defaultValue);
    li.append(sig);
    if (fd.description) li.append(el('div', 'desc', fd.description));
    if (fd.isDeprecated) li.append(el('div', 'desc', 'Deprecated' + (fd.deprecationReason ? ': ' + fd.deprecationReason : '.')));
    for (const a of fd.args || []) if (a.description) li.append(el('div', 'desc arg-desc', a.name + ': ' + a.description));
    return li;
  }

  // A selection for a type: its leaf fields; connections, edges and payloads open their objects.
  function selection(typeRef, indent, depth) {
    const t = schema.byName.get(namedType(typeRef).name);
    if (!t || !['OBJECT', 'INTERFACE', 'UNION'].includes(t.kind)) return '';
    const pad = '  '.repeat(indent + 1);
    const usable = (t.fields || []).filter((f) => !f.isDeprecated && !f.args.some(isRequired));
    const leaves = usable.filter((f) => isLeaf(f.type));
    const wrapper = /(Connection|Edge)$/.test(t.name);
    const lines = leaves.map((f) => pad + f.name);
    if (depth < 4 && (wrapper || /Payload$/.test(t.name) || !leaves.length)) {
      for (const f of usable) {
        if (isLeaf(f.type) || (wrapper && !['edges', 'node', 'pageInfo'].includes(f.name))) continue;
        const inner = selection(f.type, indent + 1, depth + 1);
        if (inner) lines.push(pad + f.name + inner);
      }
    }
    if (!lines.length) lines.push(pad + '__typename');
    return ' {\n' + lines.join('\n') + '\n' + '  '.repeat(indent) + '}';
  }

  function placeholder(typeRef, argName, fieldName, depth) {
    if (typeRef.kind === 'NON_NULL') return placeholder(typeRef.ofType, argName, fieldName, depth);
    if (typeRef.kind === 'LIST') {
      const inner = placeholder(typeRef.ofType, argName, fieldName, depth + 1);
      return inner && typeof inner === 'object' ? [inner] : [];
    }
    const t = schema.byName.get(typeRef.name) || {};
    const today = new Date().toISOString().slice(0, 10);
    switch (t.name) {
      case 'ID': return (argName === 'organizationId' || (fieldName === 'organization' && argName === 'id')) && orgId ? orgId : '';
      case 'Int': case 'Float': return 0;
      case 'Boolean': return false;
      case 'Decimal': return '0';
      case 'Date': return today;
      case 'DateTime': return new Date().toISOString();
      default: break;
    }
    if (t.kind === 'ENUM') return t.enumValues && t.enumValues.length ? t.enumValues[0].name : '';
    if (t.kind === 'INPUT_OBJECT' && depth < 4) {
      const o = {};
      for (const f of t.inputFields || []) if (isRequired(f)) o[f.name] = placeholder(f.type, f.name, fieldName, depth + 1);
      return o;
    }
    return t.kind === 'INPUT_OBJECT' ? {} : '';
  }

  function insertSkeleton(kind, fd) {
    const req = (fd.args || []).filter(isRequired);
    const defs = req.map((a) => '$' + a.name + ': ' + typeStr(a.type)).join(', ');
    const uses = req.map((a) => a.name + ': $' + a.name).join(', ');
    const opName = fd.name.charAt(0).toUpperCase() + fd.name.slice(1);
    const query = kind + ' ' + opName + (defs ? '(' + defs + ')' : '') + ' {\n  ' + fd.name
      + (uses ? '(' + uses + ')' : '') + selection(fd.type, 1, 0) + '\n}\n';
    const vars = {};
    for (const a of req) vars[a.name] = placeholder(a.type, a.name, fd.name, 0);
    loadDocument(query, req.length ? JSON.stringify(vars, null, 2) : '', 'Skeleton for ' + kind + ' field \u201c' + fd.name + '\u201d' + (req.length ? ': fill in the variables.' : '.'), null);
  }

  ui.schemaToggle.addEventListener('click', () => {
    const open = ui.schemaPanel.hidden;
    ui.schemaPanel.hidden = !open;
    document.body.classList.toggle('with-schema', open);
    ui.schemaToggle.setAttribute('aria-expanded', String(open));
    if (open && !schema) loadSchema();
    if (open) ui.schemaFilter.focus();
  });
  ui.schemaReload.addEventListener('click', loadSchema);
  ui.schemaFilter.addEventListener('input', debounce(renderSchema, 150));

  // ------------------------------------------------------------- start
  const savedQuery = load(STORE.query);
  if (savedQuery) {
    ui.query.value = savedQuery;
    ui.vars.value = load(STORE.vars) || '';
    varsChanged();
    queryChanged();
  } else {
    ui.tabs.firstElementChild.click();
    ui.query.blur();
  }
  lookupOrg();
})();
