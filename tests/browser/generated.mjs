// A generated organization for the dashboard test, made through the public API with the
// SYSTEM key: a license with a past and a current bundle, a few tenants (some allocated),
// folders with subfolders, processes, and usage with job chains. The same seed makes the
// same organization, so a failure can be replayed (SEED=<n>).

const UNIT = 'test-executions';
const SERVICES = ['test-manager', 'orchestrator', 'apps'];

// A small linear congruential generator: enough to spread figures, and reproducible.
function randomFrom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export async function generateOrganization(api, seed, today) {
  const random = randomFrom(seed);
  const int = (low, high) => low + Math.floor(random() * (high - low + 1));
  const pick = (list) => list[Math.floor(random() * list.length)];
  const call = async (query, variables) => {
    const answer = await api(query, variables);
    if (answer.errors) throw new Error(`generating seed ${seed}: ${JSON.stringify(answer.errors)}`);
    return answer.data;
  };

  const { createOrganization } = await call(`mutation($input: CreateOrganizationInput!) {
    createOrganization(input: $input) { organization { id } } }`,
  { input: { name: `Generated ${seed}`, slug: `generated-${seed}`, timeZone: 'Europe/Paris' } });
  const org = createOrganization.organization.id;
  const capacity = int(800, 3000);
  await call(`mutation($input: CreateLicenseInput!) { createLicense(input: $input) { license { id } } }`, {
    input: { organizationId: org, unitType: UNIT, planName: 'Generated', capacity: String(capacity), period: 'MONTH', startsOn: '2026-10-01' },
  });

  const tenants = [];
  let free = capacity;
  for (let t = 0; t < int(3, 5); t += 1) {
    const { createTenant } = await call(`mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }`,
      { input: { organizationId: org, name: `Team ${String.fromCharCode(65 + t)}` } });
    const tenant = { id: createTenant.tenant.id, folders: [], processes: [], jobs: [] };
    if (random() < 0.6 && free > 100) {
      const amount = int(50, Math.floor(free / 2));
      free -= amount;
      await call(`mutation($input: SetAllocationInput!) { setAllocation(input: $input) { allocation { amount } } }`,
        { input: { tenantId: tenant.id, unitType: UNIT, amount: String(amount) } });
    }
    for (let f = 0; f < int(1, 3); f += 1) {
      const parent = f > 0 && random() < 0.5 ? pick(tenant.folders) : null;
      const { createFolder } = await call(`mutation($input: CreateFolderInput!) { createFolder(input: $input) { folder { id } } }`,
        { input: { tenantId: tenant.id, parentId: parent, name: `Folder ${t}.${f}` } });
      tenant.folders.push(createFolder.folder.id);
      for (let p = 0; p < int(1, 2); p += 1) {
        const { createProcess } = await call(`mutation($input: CreateProcessInput!) { createProcess(input: $input) { process { id } } }`,
          { input: { folderId: createFolder.folder.id, name: `Process ${t}.${f}.${p}` } });
        tenant.processes.push({ id: createProcess.process.id, folder: createFolder.folder.id });
      }
    }
    tenants.push(tenant);
  }

  // Batches in order, a chain's parent always in an earlier batch (it must be known).
  const last = new Date(today);
  let job = 0;
  for (let batch = 0; batch < 4; batch += 1) {
    const events = [];
    for (let e = 0; e < 20; e += 1) {
      const tenant = pick(tenants);
      const process = random() < 0.85 ? pick(tenant.processes) : null;
      const parent = tenant.jobs.length > 0 && random() < 0.3 ? pick(tenant.jobs) : null;
      const at = new Date(Date.UTC(2026, 9, 1) + random() * (last - Date.UTC(2026, 9, 1)));
      job += 1;
      events.push({
        idempotencyKey: `generated-${seed}-${job}`,
        tenantId: tenant.id,
        unitType: UNIT,
        service: pick(SERVICES),
        quantity: String(int(1, 40)),
        occurredAt: at.toISOString(),
        kind: random() < 0.9 ? 'EXECUTION' : 'UPLOAD',
        jobId: `job-${job}`,
        parentJobId: parent,
        processId: process?.id ?? null,
        // Runs mostly in their process's folder, sometimes elsewhere: the two attribution modes differ.
        folderId: random() < 0.8 ? (process?.folder ?? null) : pick(tenant.folders),
      });
    }
    await call('mutation($input: RecordUsageInput!) { recordUsage(input: $input) { accepted } }', { input: { events } });
    for (const e of events) tenants.find((t) => t.id === e.tenantId).jobs.push(e.jobId);
  }

  const { createApiKey } = await call(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }`,
    { input: { organizationId: org, role: 'OWNER', name: 'dashboard test' } });
  return { org, key: createApiKey.secret, unit: UNIT };
}
