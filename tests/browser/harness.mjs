// What the browser tests share: a free port, timeouts, `quotagraph serve --demo` with a
// fresh SQLite file and any extra settings (resolving with the demo OWNER key once it answers /readyz), and the
// rule that a page talks to 127.0.0.1 only.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const BOOTSTRAP_KEY = 'browser-test-bootstrap-key-0123456789abcdef';
export const CLOCK = '2026-11-23T10:00:00Z';
export const STEP_TIMEOUT_MS = 30_000;

export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

export function withTimeout(promise, what, ms = STEP_TIMEOUT_MS) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, fail) => { timer = setTimeout(() => fail(new Error(`timed out: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

export async function startServer(binary, port, dir, env = {}) {
  const child = spawn(binary, ['serve', '--demo'], {
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${join(dir, 'quotagraph.db')}`,
      QUOTAGRAPH_BIND: `127.0.0.1:${port}`,
      QUOTAGRAPH_BOOTSTRAP_KEY: BOOTSTRAP_KEY,
      QUOTAGRAPH_CLOCK: CLOCK,
      RUST_LOG: process.env.RUST_LOG || 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
  const key = await withTimeout((async () => {
    for (;;) {
      const match = /OWNER API key[^\n]*?(qg_[A-Za-z0-9_]+)/.exec(stdout);
      if (match) return match[1];
      const done = await Promise.race([exited, new Promise((ok) => setTimeout(() => ok(null), 100))]);
      if (done) throw new Error(`quotagraph exited (${JSON.stringify(done)}):\n${stdout}\n${stderr}`);
    }
  })(), 'the demo OWNER key on stdout', 120_000).catch((e) => { child.kill('SIGKILL'); throw e; });
  await withTimeout((async () => {
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return;
      } catch { /* not listening yet */ }
      await new Promise((ok) => setTimeout(ok, 100));
    }
  })(), '/readyz');
  return { child, key, exited, output: () => stdout + stderr };
}

export async function stopServer(server) {
  server.child.kill('SIGTERM');
  const stopped = await Promise.race([server.exited, new Promise((ok) => setTimeout(() => ok(null), 10_000))]);
  if (!stopped) server.child.kill('SIGKILL');
}

export function allowed(url) {
  if (url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank') return true;
  try {
    return new URL(url).hostname === '127.0.0.1';
  } catch {
    return false;
  }
}
