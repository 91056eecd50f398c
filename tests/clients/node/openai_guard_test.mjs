// The official `openai` npm SDK (AzureOpenAI, its own retry loop) through `relaytap proxy
// --guard enforce`, against a fake-upstream deployment that answers 503. The SDK retries upstream
// 503s (x-stainless-retry-count 1, 2, ...) until the guard's breaker opens; the guard's local 503
// carries x-should-retry: false, so the SDK stops at it: no attempt follows a guard answer.
// Env: RT_BIN, RT_FAKE_PORT, RT_CA_DIR, RT_UPSTREAM_CA, NODE_EXTRA_CA_CERTS (relaytap's CA).
// Exits 0 on success, 1 on any failure; hard timeout 60 s.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AzureOpenAI } from 'openai';
import { ProxyAgent, fetch as undiciFetch } from 'undici';

const failures = [];
const check = (cond, what) => {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures.push(what);
};
const hardTimeout = setTimeout(() => {
  console.log('FAIL hard timeout (60 s)');
  process.exit(1);
}, 60_000);

for (const v of ['RT_BIN', 'RT_FAKE_PORT', 'RT_CA_DIR', 'RT_UPSTREAM_CA', 'NODE_EXTRA_CA_CERTS']) {
  if (!process.env[v]) {
    console.log(`FAIL ${v} is not set`);
    process.exit(1);
  }
}

const work = mkdtempSync(join(tmpdir(), 'relaytap-openai-guard-'));
const db = join(work, 'guard.db');
const policy = join(work, 'guard.json');
// 8 failures open the breaker for 30 s: the 6 first attempts and a couple of SDK retries reach
// upstream, the rest meet the budget or the open breaker.
writeFileSync(policy, JSON.stringify({
  circuit_breaker: { min_requests: 8, cooldown_ms: 30000, max_cooldown_ms: 60000 },
}));

// A second proxy, enforcing, beside the one run_clients.sh started.
const proxy = spawn(process.env.RT_BIN, [
  'proxy', '--listen', '127.0.0.1:0', '--ca-dir', process.env.RT_CA_DIR, '--db', db,
  '--upstream-ca', process.env.RT_UPSTREAM_CA,
  '--connect-to', `contoso.openai.azure.com:443:127.0.0.1:${process.env.RT_FAKE_PORT}`,
  '--guard', 'enforce', '--guard-policy', policy,
  // The main proxy's patterns: others would re-issue the shared, name-constrained CA under it.
  ...(process.env.RT_INTERCEPT ?? '').split(',').filter((p) => p).flatMap((p) => ['--intercept', p]),
], { stdio: ['ignore', 'pipe', 'pipe'] });
let stderr = '';
proxy.stderr.on('data', (d) => { stderr += d; });
const port = await new Promise((resolve, reject) => {
  let out = '';
  proxy.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/listening on 127\.0\.0\.1:(\d+)/);
    if (m) resolve(Number(m[1]));
  });
  proxy.on('exit', (code) => reject(new Error(`proxy exited ${code}: ${stderr}`)));
});
console.log(`enforcing proxy on 127.0.0.1:${port}`);

// Every attempt the SDK makes, with its retry count and what answered it.
const attempts = [];
const agent = new ProxyAgent(`http://127.0.0.1:${port}`);
const recordingFetch = async (url, init) => {
  const res = await undiciFetch(url, { ...init, dispatcher: agent });
  const headers = new Headers(init.headers);
  attempts.push({
    call: JSON.parse(init.body).call,
    retryCount: Number(headers.get('x-stainless-retry-count')),
    status: res.status,
    guard: res.headers.get('x-relaytap-guard'),
    shouldRetry: res.headers.get('x-should-retry'),
  });
  return res;
};

const client = new AzureOpenAI({
  baseURL: 'https://contoso.openai.azure.com',
  apiKey: 'sk-test-not-a-secret',
  apiVersion: '2024-10-21',
  maxRetries: 4,
  fetch: recordingFetch,
});

const calls = 6;
const results = await Promise.allSettled(
  Array.from({ length: calls }, (_, i) =>
    client.post('/status/503', { query: { deployment: 'sdk-storm' }, body: { call: i } })));

const guardAnswered = results.filter(
  (r) => r.status === 'rejected' && r.reason?.headers?.get?.('x-relaytap-guard'));
check(results.every((r) => r.status === 'rejected'), 'every call fails (upstream is down)');
check(guardAnswered.length === calls, `every call ends at the guard's local answer (${guardAnswered.length}/${calls})`);
check(guardAnswered.every((r) => r.reason.status === 503 || r.reason.status === 429),
  'the local answers are 429/503');
check(attempts.some((a) => a.retryCount > 0 && a.guard === null),
  'SDK retries of upstream 503s (x-stainless-retry-count > 0) reached upstream before the cap');
check(attempts.filter((a) => a.retryCount === 0).length === calls, 'one first attempt per call');
let afterGuard = 0;
for (let i = 0; i < calls; ++i) {
  const mine = attempts.filter((a) => a.call === i);
  const first = mine.findIndex((a) => a.guard !== null);
  if (first >= 0) afterGuard += mine.length - first - 1;
}
check(afterGuard === 0, `no SDK attempt after a guard answer (${afterGuard})`);
const upstream = attempts.filter((a) => a.guard === null).length;
check(upstream < calls * 5, `upstream saw ${upstream} attempts of the ${calls * 5} the SDKs would make`);
console.log(`openai SDK storm: ${attempts.length} attempts, ${upstream} reached upstream, ` +
  `${attempts.length - upstream} answered by the guard`);

proxy.kill('SIGTERM');
await new Promise((resolve) => proxy.on('exit', resolve));
const q = (sql) => spawnSync('sqlite3', [db, sql], { encoding: 'utf8' }).stdout.trim();
check(q("SELECT COUNT(*) FROM exchanges WHERE outcome = 'guard_rejected'") === String(calls),
  'the store has one guard_rejected exchange per local answer');
check(q("SELECT COUNT(*) FROM v_guard_decisions WHERE decision = 'reject' AND outcome = " +
  "'guard_rejected'") === String(calls), 'each rejection row is linked to its exchange');
check(q("SELECT COUNT(*) FROM guard_decisions WHERE decision = 'breaker_open'") === '1',
  'the breaker opening is a row');
check(!/sk-test-not-a-secret/.test(q("SELECT group_concat(key || counts) FROM guard_decisions")),
  'no api key in guard rows');
rmSync(work, { recursive: true, force: true });
clearTimeout(hardTimeout);
if (failures.length) {
  console.log(`FAILED: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('PASS openai SDK stops at the guard');
process.exit(0);
