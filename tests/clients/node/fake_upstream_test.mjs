// Node `ws` straight to `relaytap fake-upstream` (TLS, no proxy): a realtime session at the audio
// cadence with permessage-deflate, and the 503 of a per-deployment upgrade rule.
// Env: RT_FAKE_PORT, RT_UPSTREAM_CA. Exits 0 on success, 1 on any failure; hard timeout 30 s.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const port = process.env.RT_FAKE_PORT;
const ca = readFileSync(process.env.RT_UPSTREAM_CA);
const failures = [];
const check = (cond, what) => {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures.push(what);
};
const hardTimeout = setTimeout(() => {
  console.log('FAIL hard timeout (30 s)');
  process.exit(1);
}, 30_000);

function session() {
  return new Promise((resolve) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/openai/v1/realtime?model=gpt-realtime`,
      ['realtime'], { ca, perMessageDeflate: true, headers: { 'api-key': 'x' } });
    const types = [];
    let deltas = 0;
    ws.on('open', () => check(ws.extensions.includes('permessage-deflate'),
      `permessage-deflate negotiated (${JSON.stringify(ws.extensions)})`));
    ws.on('message', (data) => {
      const ev = JSON.parse(data.toString('utf8'));
      types.push(ev.type);
      if (ev.type === 'session.created') ws.send(JSON.stringify({ type: 'response.create' }));
      if (ev.type === 'response.output_audio.delta') {
        deltas += 1;
        if (Buffer.from(ev.delta, 'base64').length !== 960) check(false, 'delta of 960 bytes');
      }
      if (ev.type === 'response.done') {
        check(deltas === 10, `10 audio deltas of 20 ms (${deltas})`);
        check(types.includes('rate_limits.updated') && types.includes('response.output_item.done'),
          'rate_limits.updated and response.output_item.done in the stream');
        check(ev.response.status === 'completed', `response.done ${ev.response.status}`);
        ws.close(1000, 'OK');
      }
    });
    ws.on('error', (err) => check(false, `error: ${err.message}`));
    ws.on('close', (code) => {
      check(code === 1000, `closed 1000 (${code})`);
      resolve();
    });
  });
}

function refused() {
  return new Promise((resolve) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/openai/v1/realtime?model=broken`,
      ['realtime'], { ca });
    ws.on('unexpected-response', (_req, res) => {
      check(res.statusCode === 503, `rule broken:upgrade_5xx=100 -> HTTP ${res.statusCode}`);
      check(Boolean(res.headers['apim-request-id']), 'the refusal carries apim-request-id');
      res.resume();
      ws.terminate();
      resolve();
    });
    ws.on('open', () => {
      check(false, 'upgrade should have been refused');
      ws.terminate();
      resolve();
    });
    ws.on('error', () => {});
  });
}

await session();
await refused();
clearTimeout(hardTimeout);
console.log(`node ${process.version}: ${failures.length} failure(s)`);
process.exit(failures.length ? 1 : 0);
