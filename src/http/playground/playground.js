// quotagraph playground: GraphiQL (embedded in the server from pinned npm packages) wired
// to this server. Queries and mutations go over POST /graphql, subscriptions over a
// WebSocket on the same origin (graphql-transport-ws), with the Authorization header of
// the headers editor sent in connection_init. Nothing is loaded from anywhere else.
'use strict';

(() => {
  const PLACEHOLDER = 'Bearer <paste your API key>';
  const HEADERS = JSON.stringify({ Authorization: PLACEHOLDER }, null, 2);
  const AUTO = '# An empty $org or $tenant ("" in Variables) stands for\n'
    + '# your key\'s organization and its first active tenant.\n';

  const vars = (v) => JSON.stringify(v, null, 2);
  const tab = (query, variables) => ({ query, variables: vars(variables), headers: HEADERS });

  // The contract's example queries (README, docs/design.md §3-§5, §7), one tab each.
  const TABS = [
    tab(`${AUTO}# Every card of the dashboard (docs/design.md §3): the
# organization's, each tenant's, and the quota panel.
query Dashboard($org: ID!) {
  organization(id: $org) {
    name
    timeZone
    usage(unitType: "platform-units") {
      from
      to
      bundle { startDate endDate capacity current }
      totalCapacity
      consumed
      consumedFromAllocated
      consumedFromOrganization
      remaining
      allocated
      availableForAllocation
      overage
      overAllocation
      status
      capacityCard { mode value }
      breakdown {
        consumedFromAllocated
        consumedFromOrganization
        remaining
      }
      tenants {
        displayName
        allocated
        consumed
        consumedFromAllocated
        consumedFromOrganization
        consumptionRate
        remaining
        overage
        availableForAllocation
        status
      }
    }
    quota(unitType: "test-executions") {
      used quota limit remaining burstActive enforced
      periodStart periodEnd resetsOn
    }
  }
}
`, { org: '' }),
    tab(`${AUTO}# One tenant's view: its card, its use over time and
# by service, its folders.
query TenantView($org: ID!, $tenant: ID!) {
  organization(id: $org) {
    usage(unitType: "test-executions") {
      tenant(id: $tenant) {
        tenant { id name state }
        displayName
        allocated
        consumed
        consumedFromAllocated
        consumedFromOrganization
        consumptionRate
        remaining
        overage
        availableForAllocation
        status
        distribution(granularity: WEEK) { start end consumed }
        byService {
          total
          services { service { code name } consumed percent }
        }
        folders(attribution: EXECUTION) {
          folder { name }
          consumed
        }
      }
    }
    quota(unitType: "test-executions") {
      used limit remaining resetsOn
    }
  }
}
`, { org: '', tenant: '' }),
    tab(`${AUTO}# EXECUTION: the folder each run executed in, and
# each process's own events.
query FoldersByExecution($org: ID!) {
  organization(id: $org) {
    usage(unitType: "test-executions") {
      tenants(states: [ACTIVE]) {
        displayName
        consumed
        folders(attribution: EXECUTION) {
          folder { name }
          consumed
          children {
            folder { name }
            consumed
            processes { process { name } own consumed }
          }
          processes { process { name } own consumed }
        }
        processes(attribution: EXECUTION, first: 10) {
          edges {
            node {
              process { name folder { name } }
              own
              consumed
            }
          }
        }
      }
    }
  }
}
`, { org: '' }),
    tab(`${AUTO}# OWNERSHIP: all a job chain consumed, owed to its root
# process and the folder owning it, expanded into the
# processes the chain started.
query FoldersByOwnership($org: ID!) {
  organization(id: $org) {
    usage(unitType: "test-executions") {
      tenants(states: [ACTIVE]) {
        displayName
        consumed
        folders(attribution: OWNERSHIP) {
          folder { name }
          consumed
          children { folder { name } consumed }
          processes {
            process { name }
            own
            consumed
            children {
              process { name }
              own
              consumed
              children { process { name } own consumed }
            }
          }
        }
        processes(attribution: OWNERSHIP, first: 10) {
          edges { node { process { name } own consumed } }
        }
      }
    }
    activity(unitType: "test-executions", weeks: 4) {
      weeks { weekStart runs executions uploads durationSeconds }
      precedingWeek {
        weekStart runs executions uploads durationSeconds
      }
    }
  }
}
`, { org: '' }),
    tab(`${AUTO}# Live quota events (over WebSocket): thresholds,
# status changes, exhausted quotas, refused admissions.
# Run it, then run RecordUsage in another tab.
subscription QuotaEvents($org: ID!) {
  quotaEvents(
    organizationId: $org
    unitType: "test-executions"
  ) {
    kind
    at
    tenantId
    unitType
    threshold
    previousStatus
    status
    consumed
    remaining
  }
}
`, { org: '' }),
    tab(`${AUTO}# The live dashboard cards (over WebSocket): sent at
# once, then again after every change.
subscription LiveUsage($org: ID!) {
  usage(organizationId: $org, unitType: "test-executions") {
    from
    to
    totalCapacity
    consumed
    remaining
    allocated
    availableForAllocation
    status
    capacityCard { mode value }
    tenants {
      displayName allocated consumed consumptionRate
      remaining status
    }
  }
}
`, { org: '' }),
    tab(`${AUTO}# Record usage. Idempotent: the same idempotencyKey
# twice counts as a duplicate.
mutation RecordUsage($tenant: ID!, $key: String!, $at: DateTime!) {
  recordUsage(input: { events: [{
    idempotencyKey: $key
    tenantId: $tenant
    unitType: "test-executions"
    service: "test-manager"
    quantity: "1"
    occurredAt: $at
    jobId: $key
  }] }) {
    accepted
    duplicates
  }
}
`, { tenant: '', key: `playground-${Date.now().toString(36)}`, at: new Date().toISOString() }),
  ];

  // GraphiQL fills the editors from its storage, not from the first tab, and on a reload
  // looks the stored editors up among the stored tabs (adding a tab when none matches):
  // on a first visit, store the first tab's query and variables as the editors'.
  try {
    const store = window.localStorage;
    if (!store.getItem('graphiql:tabState')) {
      store.setItem('graphiql:query', TABS[0].query);
      store.setItem('graphiql:variables', TABS[0].variables);
    }
  } catch { /* no storage (private mode): the first tab starts without its variables */ }

  const wsUrl = (() => {
    const url = new URL('/graphql', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.href;
  })();

  const base = GraphiQL.createFetcher({
    url: '/graphql',
    subscriptionUrl: wsUrl,
    enableIncrementalDelivery: false,
    headers: { Accept: 'application/graphql-response+json, application/json' },
  });

  // The Authorization header of a headers editor, when it holds a real key.
  function authorizationOf(headers) {
    if (!headers || typeof headers !== 'object') return null;
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() === 'authorization' && typeof value === 'string') {
        const v = value.trim();
        return v && !v.includes('<') && v !== 'Bearer' ? v : null;
      }
    }
    return null;
  }

  function parseHeaders(text) {
    try { return JSON.parse(text || '{}'); } catch { return null; }
  }

  // Each tab has its own headers editor: a tab that still shows the placeholder uses the
  // key last set in any tab (kept in this page's memory only, never stored).
  function withAuthorization(headers, shared) {
    const own = headers && typeof headers === 'object' ? { ...headers } : {};
    if (authorizationOf(own) || !shared) return own;
    for (const name of Object.keys(own)) if (name.toLowerCase() === 'authorization') delete own[name];
    own.Authorization = shared;
    return own;
  }

  // $org and $tenant given as "" (or not at all) are filled in from the key.
  const scopes = new Map();
  async function scopeOf(headers) {
    const auth = authorizationOf(headers) || '';
    if (!scopes.has(auth)) {
      scopes.set(auth, base({
        operationName: 'PlaygroundScope',
        query: `query PlaygroundScope {
  viewer { organization { id } tenant { id } }
  organizations(first: 1) { edges { node { id tenants(first: 1, states: [ACTIVE]) { edges { node { id } } } } } }
}`,
      }, { headers }).then((answer) => {
        const data = (answer && answer.data) || {};
        const first = data.organizations && data.organizations.edges && data.organizations.edges[0];
        const org = (data.viewer && data.viewer.organization && data.viewer.organization.id)
          || (first && first.node.id) || null;
        const tenants = first && first.node.tenants && first.node.tenants.edges;
        const tenant = (data.viewer && data.viewer.tenant && data.viewer.tenant.id)
          || (tenants && tenants[0] && tenants[0].node.id) || null;
        if (!org) scopes.delete(auth);
        return { org, tenant };
      }, () => { scopes.delete(auth); return { org: null, tenant: null }; }));
    }
    return scopes.get(auth);
  }

  const declares = (query, name) => new RegExp(`\\$${name}\\s*:`).test(query || '');

  async function fillVariables(params, headers) {
    const given = params.variables && typeof params.variables === 'object' ? params.variables : {};
    const wanted = ['org', 'tenant'].filter((name) => declares(params.query, name) && !given[name]);
    if (wanted.length === 0 || params.operationName === 'IntrospectionQuery') return params;
    const scope = await scopeOf(headers);
    const variables = { ...given };
    for (const name of wanted) if (scope[name]) variables[name] = scope[name];
    return { ...params, variables };
  }

  const NO_KEY = 'Paste your API key in the Headers editor below the query: '
    + '{"Authorization": "Bearer qg_..."}. The schema (Docs) loads once it is set.';

  function makeFetcher(shared) {
    return async (params, options) => {
      const headers = withAuthorization(options && options.headers, shared);
      // No key yet: answer here rather than collect a 401 from the server.
      if (!authorizationOf(headers)) return { errors: [{ message: NO_KEY, extensions: { code: 'UNAUTHENTICATED' } }] };
      return base(await fillVariables(params, headers), { ...options, headers });
    };
  }

  const h = React.createElement;

  function Playground() {
    const [shared, setShared] = React.useState(null);
    // A new fetcher (a new key) makes GraphiQL fetch the schema again, for the docs.
    const fetcher = React.useMemo(() => makeFetcher(shared), [shared]);
    const timer = React.useRef(null);
    const onEditHeaders = React.useCallback((text) => {
      clearTimeout(timer.current);
      timer.current = setTimeout(() => {
        const auth = authorizationOf(parseHeaders(text));
        if (auth) setShared((previous) => (previous === auth ? previous : auth));
      }, 400);
    }, []);
    return h(
      GraphiQL,
      {
        fetcher,
        defaultTabs: TABS,
        defaultHeaders: HEADERS,
        defaultEditorToolsVisibility: 'headers',
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: false,
        onEditHeaders,
      },
      GraphiQL.Logo ? h(GraphiQL.Logo, null, 'quotagraph') : null,
    );
  }

  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(h(Playground));
})();
