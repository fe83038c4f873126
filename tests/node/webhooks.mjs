// Webhooks checked by the reference verifier (docs/design.md §15.4): an endpoint pointing
// at a receiver in this process gets a new tenant's allocation, `standardwebhooks` accepts
// the request as sent and rejects it with a tampered body.

import { createServer } from 'node:http';

import { Webhook } from 'standardwebhooks';

const CREATE = `mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id } }
}`;
const ALLOCATE = `mutation($tenant: ID!, $amount: Decimal!) {
  setAllocation(input: {tenantId: $tenant, unitType: "test-executions", amount: $amount}) { allocation { amount } }
}`;

const TENANT = `mutation($org: ID!) {
  createTenant(input: {organizationId: $org, name: "Webhook check"}) { tenant { id } }
}`;

/** A receiver on 127.0.0.1 answering 200; resolves `received` with the first request. */
async function receiver() {
  let deliver;
  const received = new Promise((done) => {
    deliver = done;
  });
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      response.writeHead(204).end();
      deliver({ headers: request.headers, body });
    });
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${server.address().port}/hook`, received, close: () => server.close() };
}

/** Runs the check against `server` (started with QUOTAGRAPH_WEBHOOK_ALLOW_PRIVATE=true). */
export async function webhooks({ post, within, assert }, server, org) {
  const hook = await receiver();
  try {
    const made = await post(server, CREATE, {
      input: { organizationId: org, url: hook.url, kinds: ['ALLOCATION_CHANGED'] },
    });
    const { secret } = made.createWebhookEndpoint;
    assert(secret.startsWith('whsec_'), `secret: ${secret}`);
    // A tenant of its own, given an allocation of 0 (the demo has nothing left to allocate).
    const created = await post(server, TENANT, { org });
    const tenant = created.createTenant.tenant.id;
    await post(server, ALLOCATE, { tenant, amount: '0' });
    const { headers, body } = await within(10_000, 'the webhook delivery', hook.received);
    const verifier = new Webhook(secret);
    const payload = verifier.verify(body, headers);
    assert(payload.type === 'quota.allocation_changed', `type: ${JSON.stringify(payload)}`);
    assert(payload.data.id === headers['webhook-id'], `data.id: ${JSON.stringify(payload)}`);
    assert(payload.data.tenantId === tenant, `data.tenantId: ${JSON.stringify(payload)}`);
    let refused = false;
    try {
      verifier.verify(body.replace('"ALLOCATION_CHANGED"', '"QUOTA_EXHAUSTED"'), headers);
    } catch {
      refused = true;
    }
    assert(refused, 'a tampered body is refused');
  } finally {
    hook.close();
  }
}
