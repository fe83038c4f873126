// Real GraphQL clients against the real server, from Node.
//
//   cd tests/node && npm ci && node run.mjs ../../target/debug/quotagraph
//
// Starts `quotagraph serve --demo` on a free port over a fresh SQLite file, then runs: the
// graphql-http server audit (any error or warning fails), graphql-ws and the legacy
// subscriptions-transport-ws client subscribing (`usage` answers at once, `quotaEvents`
// hears a recordUsage), Apollo Client running the dashboard query with variables (and
// again through automatic persisted queries, POST and GET), graphql-js validating the
// introspected schema, the standardwebhooks verifier accepting a webhook delivery (and
// refusing it tampered), a WebSocket that never sends connection_init being closed with
// 4408, and SIGTERM closing open WebSockets with 1001. Exits non-zero on any failure; the last line reads "N passed, N failed".

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { assertValidSchema, buildClientSchema, getIntrospectionQuery } from 'graphql';
import { serverAudits } from 'graphql-http';
import { createClient } from 'graphql-ws';
import { SubscriptionClient } from 'subscriptions-transport-ws';
import WebSocket from 'ws';

import { webhooks } from './webhooks.mjs';

const binary = process.argv[2];
if (!binary) {
  console.error('usage: node run.mjs <path to the quotagraph binary>');
  process.exit(2);
}

const KEY = 'qg_node_client_tests_bootstrap_key';
const AUTHORIZATION = `Bearer ${KEY}`;
/** The WebSocket init timeout of the server (src/http/graphql.rs INIT_TIMEOUT), plus slack. */
const INIT_TIMEOUT_MS = 10_000;

const DASHBOARD = `query Dashboard($org: ID!) {
  organization(id: $org) {
    name
    usage(unitType: "platform-units") {
      from to totalCapacity consumed consumedFromAllocated consumedFromOrganization
      remaining allocated availableForAllocation overage overAllocation status
      capacityCard { mode value }
      tenants { displayName allocated consumed consumptionRate remaining overage status }
    }
    quota(unitType: "test-executions") { used quota limit remaining burstActive periodStart resetsOn }
  }
}`;
const USAGE = `subscription($org: ID!) { usage(organizationId: $org, unitType: "test-executions") { consumed status } }`;
const QUOTA_EVENTS = `subscription($org: ID!) {
  quotaEvents(organizationId: $org, unitType: "test-executions") { kind tenantId consumed remaining }
}`;
const RECORD = `mutation($events: [UsageEventInput!]!) { recordUsage(input: {events: $events}) { accepted } }`;

// ---------------------------------------------------------------------------------------
// The server.

async function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Rejects after `ms` with `what`, unless `promise` settles first. */
function within(ms, what, promise) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, fail) => {
      timer = setTimeout(() => fail(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function startServer() {
  const port = await freePort();
  const database = join(tmpdir(), `quotagraph-node-${process.pid}-${Date.now()}.db`);
  const child = spawn(resolve(binary), ['serve', '--demo'], {
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${database}`,
      QUOTAGRAPH_BIND: `127.0.0.1:${port}`,
      QUOTAGRAPH_BOOTSTRAP_KEY: KEY,
      QUOTAGRAPH_CLOCK: '2026-11-23T10:00:00Z',
      // The webhook check's receiver listens on 127.0.0.1.
      QUOTAGRAPH_WEBHOOK_ALLOW_PRIVATE: 'true',
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let logs = '';
  child.stderr.on('data', (chunk) => {
    logs += chunk;
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${base}/livez`)).ok) {
        return {
          http: `${base}/graphql`,
          ws: `ws://127.0.0.1:${port}/graphql`,
          logs: () => logs,
          async stop() {
            if (child.exitCode === null) {
              const exited = new Promise((done) => child.once('exit', done));
              child.kill('SIGTERM');
              await within(15_000, 'the server stops', exited).catch(() => child.kill('SIGKILL'));
            }
            for (const suffix of ['', '-wal', '-shm']) rmSync(`${database}${suffix}`, { force: true });
          },
        };
      }
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`the server did not start:\n${logs}`);
}

// ---------------------------------------------------------------------------------------
// Helpers.

async function post(server, query, variables) {
  const response = await fetch(server.http, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: AUTHORIZATION },
    body: JSON.stringify({ query, variables }),
  });
  const answer = await response.json();
  if (answer.errors) throw new Error(`${query}: ${JSON.stringify(answer.errors)}`);
  return answer.data;
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

let recorded = 0;
/** Records one test execution for `tenant` and returns its idempotency key. */
async function recordUsage(server, tenant) {
  recorded += 1;
  const key = `node-${process.pid}-${recorded}`;
  const data = await post(server, RECORD, {
    events: [
      {
        idempotencyKey: key,
        tenantId: tenant,
        unitType: 'test-executions',
        service: 'test-manager',
        quantity: '1',
        occurredAt: '2026-11-23T09:30:00Z',
      },
    ],
  });
  assert(data.recordUsage.accepted === 1, `recordUsage: ${JSON.stringify(data)}`);
  return key;
}

/** A queue of what a subscription pushes; `next()` waits for the next item. */
function inbox() {
  const items = [];
  const waiters = [];
  return {
    push(item) {
      const waiter = waiters.shift();
      if (waiter) waiter(item);
      else items.push(item);
    },
    next(ms, what) {
      if (items.length) return Promise.resolve(items.shift());
      return within(ms, what, new Promise((done) => waiters.push(done)));
    },
  };
}

/** Waits for a quota event about `tenant` (the recorded usage) and checks it. */
async function hearUsage(events, tenant, what) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const result = await events.next(Math.max(deadline - Date.now(), 1), what);
    if (result.errors) throw new Error(`${what}: ${JSON.stringify(result.errors)}`);
    const event = result.data?.quotaEvents;
    assert(event && typeof event.kind === 'string', `${what}: ${JSON.stringify(result)}`);
    if (event.kind === 'USAGE_RECORDED' && event.tenantId === tenant) return event;
  }
}

// ---------------------------------------------------------------------------------------
// The checks.

async function audit(server) {
  const fetchFn = (input, init = {}) =>
    fetch(input, { ...init, headers: { ...(init.headers ?? {}), authorization: AUTHORIZATION } });
  const results = await Promise.all(serverAudits({ url: server.http, fetchFn }).map(({ fn }) => fn()));
  const bad = results.filter((r) => r.status !== 'ok');
  const described = await Promise.all(
    bad.map(async (r) => {
      let body = '';
      try {
        body = r.response ? await r.response.text() : '';
      } catch {
        // already read
      }
      return `${r.status.toUpperCase()} ${r.id} ${r.name}: ${r.reason}${body ? ` (body: ${body.slice(0, 300)})` : ''}`;
    }),
  );
  assert(bad.length === 0, `the audit found:\n  ${described.join('\n  ')}`);
  return `${results.length} audits, all ok`;
}

async function graphqlWs(server, org, tenant) {
  const client = createClient({
    url: server.ws,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: AUTHORIZATION },
    retryAttempts: 0,
    lazy: true,
  });
  try {
    const usage = inbox();
    const stopUsage = client.subscribe(
      { query: USAGE, variables: { org } },
      { next: (r) => usage.push(r), error: (e) => usage.push({ errors: [String(e?.reason ?? e)] }), complete: () => {} },
    );
    const first = await usage.next(5_000, 'graphql-ws usage');
    assert(!first.errors && first.data?.usage?.status, `graphql-ws usage: ${JSON.stringify(first)}`);
    stopUsage();

    const events = inbox();
    const stopEvents = client.subscribe(
      { query: QUOTA_EVENTS, variables: { org } },
      { next: (r) => events.push(r), error: (e) => events.push({ errors: [String(e?.reason ?? e)] }), complete: () => {} },
    );
    await sleep(1_000); // no acknowledgement of a subscription: give it time to reach the bus
    await recordUsage(server, tenant);
    const event = await hearUsage(events, tenant, 'graphql-ws quotaEvents');
    stopEvents();
    return `usage ${first.data.usage.status}, then ${event.kind} consumed ${event.consumed}`;
  } finally {
    await client.dispose();
  }
}

async function legacyWs(server, org, tenant) {
  const client = new SubscriptionClient(
    server.ws,
    { reconnect: false, lazy: true, connectionParams: { Authorization: AUTHORIZATION } },
    WebSocket,
  );
  try {
    const usage = inbox();
    const usageSubscription = client
      .request({ query: USAGE, variables: { org } })
      .subscribe({ next: (r) => usage.push(r), error: (e) => usage.push({ errors: [String(e?.message ?? e)] }) });
    const first = await usage.next(5_000, 'subscriptions-transport-ws usage');
    assert(!first.errors && first.data?.usage?.status, `legacy usage: ${JSON.stringify(first)}`);
    usageSubscription.unsubscribe();

    const events = inbox();
    const eventsSubscription = client
      .request({ query: QUOTA_EVENTS, variables: { org } })
      .subscribe({ next: (r) => events.push(r), error: (e) => events.push({ errors: [String(e?.message ?? e)] }) });
    await sleep(1_000);
    await recordUsage(server, tenant);
    const event = await hearUsage(events, tenant, 'subscriptions-transport-ws quotaEvents');
    eventsSubscription.unsubscribe();
    return `usage ${first.data.usage.status}, then ${event.kind} consumed ${event.consumed}`;
  } finally {
    client.close();
  }
}

function checkDashboard(data, what) {
  const organization = data?.organization;
  assert(organization?.name === 'Acme Corp', `${what}: ${JSON.stringify(data)}`);
  assert(organization.usage.totalCapacity === '120000', `${what}: totalCapacity ${organization.usage.totalCapacity}`);
  assert(organization.usage.tenants.length > 0, `${what}: no tenant cards`);
  assert(organization.quota.quota === '5500' && organization.quota.limit === '7150', `${what}: quota ${JSON.stringify(organization.quota)}`);
}

async function apollo(server, org) {
  const headers = { authorization: AUTHORIZATION };
  const client = new ApolloClient({
    link: new HttpLink({ uri: server.http, headers }),
    cache: new InMemoryCache(),
  });
  const { data, error } = await client.query({ query: gql(DASHBOARD), variables: { org } });
  assert(!error, `Apollo Client: ${error}`);
  checkDashboard(data, 'Apollo Client');

  // Automatic persisted queries: the first request sends the hash alone and hears
  // PERSISTED_QUERY_NOT_FOUND, the link sends the document, later requests the hash alone.
  const sent = [];
  const spy = (input, init) => {
    sent.push({ method: init?.method ?? 'GET', url: String(input), body: init?.body ?? '' });
    return fetch(input, init);
  };
  const sha256 = (text) => createHash('sha256').update(text).digest('hex');
  for (const useGETForHashedQueries of [false, true]) {
    sent.length = 0;
    const persisted = new ApolloClient({
      link: ApolloLink.from([
        new PersistedQueryLink({ sha256, useGETForHashedQueries }),
        new HttpLink({ uri: server.http, headers, fetch: spy }),
      ]),
      cache: new InMemoryCache(),
    });
    // A name of its own per round, so that each starts with a hash the server has not seen.
    const query = gql(DASHBOARD.replace('query Dashboard', `query Dashboard${useGETForHashedQueries ? 'ByGet' : 'ByPost'}`));
    for (let round = 0; round < 2; round += 1) {
      const answer = await persisted.query({ query, variables: { org }, fetchPolicy: 'network-only' });
      assert(!answer.error, `APQ: ${answer.error}`);
      checkDashboard(answer.data, `Apollo Client with persisted queries (round ${round})`);
    }
    // Round 1: the hash alone (not found), then the document; round 2: the hash alone.
    const carriesDocument = (r) => r.body.includes('"query"') || new URL(r.url).searchParams.has('query');
    assert(
      sent.length === 3 && !carriesDocument(sent[0]) && carriesDocument(sent[1]) && !carriesDocument(sent[2]),
      `APQ requests: ${JSON.stringify(sent.map((r) => ({ method: r.method, document: carriesDocument(r) })))}`,
    );
    if (useGETForHashedQueries) assert(sent[2].method === 'GET', `APQ over GET: ${sent[2].method}`);
  }
  return 'dashboard answered; APQ over POST and GET';
}

async function introspection(server) {
  const data = await post(server, getIntrospectionQuery());
  const schema = buildClientSchema(data);
  assertValidSchema(schema);
  return `${Object.keys(schema.getTypeMap()).length} types, valid`;
}

/** A socket that sends nothing after the upgrade is closed with 4408 after the timeout. */
function neverInit(server, protocol) {
  return new Promise((done, fail) => {
    const started = Date.now();
    const socket = new WebSocket(server.ws, protocol);
    const timer = setTimeout(() => {
      socket.terminate();
      fail(new Error(`${protocol}: not closed within ${INIT_TIMEOUT_MS + 5_000} ms`));
    }, INIT_TIMEOUT_MS + 5_000);
    socket.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    socket.on('close', (code, reason) => {
      clearTimeout(timer);
      const after = Date.now() - started;
      if (code !== 4408) fail(new Error(`${protocol}: closed with ${code} ${reason}`));
      else if (after < INIT_TIMEOUT_MS - 1_000) fail(new Error(`${protocol}: closed after ${after} ms only`));
      else done(`${protocol}: 4408 "${reason}" after ${after} ms`);
    });
  });
}

/** An initialised socket hears 1001 (going away) when the server is told to stop. */
async function drain(server) {
  const socket = new WebSocket(server.ws, 'graphql-transport-ws');
  const closed = new Promise((done) => socket.on('close', (code) => done(code)));
  await within(5_000, 'the socket opens', new Promise((done, fail) => {
    socket.once('open', done);
    socket.once('error', fail);
  }));
  const acknowledged = new Promise((done) => socket.once('message', (m) => done(JSON.parse(String(m)))));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: AUTHORIZATION } }));
  const ack = await within(5_000, 'connection_ack', acknowledged);
  assert(ack.type === 'connection_ack', `expected connection_ack: ${JSON.stringify(ack)}`);
  await server.stop();
  const code = await within(5_000, 'the close', closed);
  assert(code === 1001, `closed with ${code}`);
  return 'closed with 1001';
}

// ---------------------------------------------------------------------------------------

const server = await startServer();
let passed = 0;
let failed = 0;
async function check(name, run) {
  try {
    const detail = await run();
    passed += 1;
    console.log(`ok   ${name}${detail ? ` — ${detail}` : ''}`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${name}\n     ${String(error?.stack ?? error).replaceAll('\n', '\n     ')}`);
  }
}

try {
  const found = await post(
    server,
    `{ organizations(first: 1) { edges { node { id tenants(states: [ACTIVE]) { edges { node { id name } } } } } } }`,
  );
  const organization = found.organizations.edges[0].node;
  const org = organization.id;
  const tenant = organization.tenants.edges[0].node.id;

  // The 4408 checks wait for the timeout: run them beside the others.
  const silent = Promise.allSettled([neverInit(server, 'graphql-transport-ws'), neverInit(server, 'graphql-ws')]);
  await check('graphql-http server audit', () => audit(server));
  await check('graphql-ws subscriptions', () => graphqlWs(server, org, tenant));
  await check('subscriptions-transport-ws subscriptions', () => legacyWs(server, org, tenant));
  await check('Apollo Client dashboard query', () => apollo(server, org));
  await check('graphql-js validates the introspected schema', () => introspection(server));
  await check('standardwebhooks verifies a webhook delivery', () =>
    webhooks({ post, within, assert }, server, org),
  );
  for (const [i, protocol] of ['graphql-transport-ws', 'graphql-ws'].entries()) {
    await check(`a ${protocol} socket that never sends connection_init is closed with 4408`, async () => {
      const outcome = (await silent)[i];
      if (outcome.status === 'rejected') throw outcome.reason;
      return outcome.value;
    });
  }
  // Last: it stops the server.
  await check('SIGTERM closes open WebSockets with 1001', () => drain(server));
} catch (error) {
  failed += 1;
  console.log(`FAIL setup\n     ${error?.stack ?? error}`);
} finally {
  await server.stop();
}
if (failed && process.env.SHOW_SERVER_LOGS) console.log(server.logs());
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
