// Node `ws` through relaytap with https-proxy-agent (Node 20 has no built-in proxy support for
// WebSocket), permessage-deflate on, relaytap's CA trusted via NODE_EXTRA_CA_CERTS.
// Env: RT_PROXY_PORT. Exits 0 on success, 1 on any failure; hard timeout 30 s.
import { randomBytes } from 'node:crypto';
import { HttpsProxyAgent } from 'https-proxy-agent';
import WebSocket from 'ws';

const port = process.env.RT_PROXY_PORT;
// echo=1: the fake upstream's byte-echo endpoint.
const url = 'wss://contoso.openai.azure.com/openai/v1/realtime?model=gpt-realtime&echo=1';
const failures = [];
const check = (cond, what) => {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures.push(what);
};

const hardTimeout = setTimeout(() => {
  console.log('FAIL hard timeout (30 s)');
  process.exit(1);
}, 30_000);

if (!process.env.NODE_EXTRA_CA_CERTS) check(false, 'NODE_EXTRA_CA_CERTS is set');

// 100 KB of text, non-ASCII included, compressible and not.
const big = JSON.stringify({
  type: 'conversation.item.create',
  pad: randomBytes(36 * 1024).toString('base64') + 'é✓'.repeat(1000),
}).padEnd(100 * 1024, 'x');

const ws = new WebSocket(url, {
  agent: new HttpsProxyAgent(`http://127.0.0.1:${port}`),
  perMessageDeflate: true,
  headers: { 'api-key': 'x' },
});

let state = 'await-session';
const seen = [];
ws.on('open', () => {
  check(true, `open via proxy 127.0.0.1:${port}`);
  check(ws.extensions.includes('permessage-deflate'),
        `permessage-deflate negotiated (${JSON.stringify(ws.extensions)})`);
});
ws.on('message', (data, isBinary) => {
  if (state === 'await-echo') {
    check(!isBinary && Buffer.from(big, 'utf8').equals(data),
          `100 KB text echoed byte-identical (${data.length} bytes)`);
    state = 'closing';
    ws.send(JSON.stringify({ type: 'close.request' }));
    return;
  }
  const ev = JSON.parse(data.toString('utf8'));
  seen.push(ev.type);
  if (state === 'await-session') {
    check(ev.type === 'session.created', `session.created first (${ev.type})`);
    state = 'await-done';
    ws.send(JSON.stringify({ type: 'response.create' }));
  } else if (state === 'await-done' && ev.type === 'response.done') {
    check(seen.filter((t) => t === 'response.output_audio.delta').length === 5,
          'response.create -> 5 audio deltas -> response.done');
    state = 'await-echo';
    ws.send(big);
  }
});
ws.on('unexpected-response', (_req, res) => {
  check(false, `upgrade refused: HTTP ${res.statusCode}`);
});
ws.on('error', (err) => check(false, `error: ${err.message}`));
ws.on('close', (code) => {
  check(state === 'closing' && code === 1000, `closed 1000 after close.request (code ${code}, state ${state})`);
  clearTimeout(hardTimeout);
  console.log(`node ${process.version}: ${failures.length} failure(s)`);
  process.exit(failures.length ? 1 : 0);
});
