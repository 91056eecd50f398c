// #14 item 4: a compressed message that inflates a thousandfold must not blow up the proxy.
// Node `ws` sends one text message of 30 MB of valid JSON (ten million empty arrays) that
// permessage-deflate shrinks to about 30 KB; the fake upstream echoes it back, so the proxy's
// taps see it in both directions. The proxy must relay it unchanged, stay under a memory bound
// while doing so (its peak RSS, VmHWM, from /proc), give the memory back, and go on serving.
// Env: RT_PROXY_PORT, RT_PROXY_PID. Exits 0 on success, 1 on any failure; hard timeout 90 s.
import { readFileSync } from 'node:fs';
import { HttpsProxyAgent } from 'https-proxy-agent';
import WebSocket from 'ws';

const port = process.env.RT_PROXY_PORT;
const pid = process.env.RT_PROXY_PID;
// echo=1: the fake upstream's byte-echo endpoint.
const url = 'wss://contoso.openai.azure.com/openai/v1/realtime?model=gpt-realtime&echo=1';
// Before the fix the proxy reached 1.2 GB on this message. The bound leaves room for the relay,
// the TLS buffers and the recorder's queue, and none for a DOM of ten million values.
const kPeakBoundMiB = 256;
const failures = [];
const check = (cond, what) => {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures.push(what);
};

const hardTimeout = setTimeout(() => {
  console.log('FAIL hard timeout (90 s)');
  process.exit(1);
}, 90_000);

function memoryMiB() {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)[1]) / 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

const bomb = '{"type":"conversation.item.create","item":{"type":"message","content":[' +
  '[],'.repeat(10_000_000) + '[]]}}';

function session(onOpen, onMessage) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      agent: new HttpsProxyAgent(`http://127.0.0.1:${port}`),
      perMessageDeflate: { threshold: 0 },
      maxPayload: 64 << 20,
      headers: { 'api-key': 'x' },
    });
    ws.on('open', () => onOpen(ws));
    ws.on('message', (data, isBinary) => onMessage(ws, data, isBinary, resolve));
    ws.on('error', reject);
    ws.on('close', () => resolve(null));
  });
}

const before = memoryMiB();
console.log(`proxy before: rss ${before.rss.toFixed(1)} MiB, peak ${before.peak.toFixed(1)} MiB`);

let wireBytes = 0;
let gotSession = false;
const echoed = await session(
  (ws) => ws._socket.on('data', (d) => { wireBytes += d.length; }),
  (ws, data, isBinary, resolve) => {
    if (!gotSession) {
      gotSession = true;
      ws.send(bomb);
      return;
    }
    const text = data.toString('utf8');
    if (text.startsWith('{"type":"conversation.item.create"')) {
      resolve(text);
      ws.close(1000, 'done');
    }
  });
check(echoed === bomb, `30 MB message echoed byte-identical (${echoed ? echoed.length : 0} bytes, ` +
  `${wireBytes} bytes on the client's socket)`);

// The memory goes back: give the recorder's writer time to take the observation off the queue.
let after = memoryMiB();
for (let i = 0; i < 50 && after.rss > before.rss + 64; ++i) {
  await new Promise((r) => setTimeout(r, 100));
  after = memoryMiB();
}
console.log(`proxy after: rss ${after.rss.toFixed(1)} MiB, peak ${after.peak.toFixed(1)} MiB`);
check(after.peak < kPeakBoundMiB, `peak RSS ${after.peak.toFixed(1)} MiB < ${kPeakBoundMiB} MiB`);
check(after.rss < before.rss + 64,
  `RSS back within 64 MiB of where it started (${before.rss.toFixed(1)} -> ${after.rss.toFixed(1)})`);

// And the proxy still serves a realtime session.
const created = await session(() => {}, (ws, data, isBinary, resolve) => {
  resolve(JSON.parse(data.toString('utf8')).type);
  ws.close(1000, 'done');
});
check(created === 'session.created', `a new session still opens (${created})`);

clearTimeout(hardTimeout);
if (failures.length) {
  console.log(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('inflate bomb: all checks passed');
