// Validates a HAR file written by `relaytap export --har` against the HAR 1.2 schema
// (har-validator, the schema HAR tools share), and checks what a viewer needs from a recording
// of realtime traffic: at least one WebSocket entry with its messages, request ids kept, and
// none of the planted canaries. Usage: node har_validate.mjs FILE
import { readFileSync } from 'node:fs';
import validator from 'har-validator';

const file = process.argv[2];
const text = readFileSync(file, 'utf8');
const har = JSON.parse(text);
try {
  await validator.har(har);
} catch (e) {
  console.error(`schema: ${e.message}`);
  for (const err of e.errors ?? []) console.error(`  ${err.dataPath ?? ''} ${err.message}`);
  process.exit(1);
}
const entries = har.log.entries;
const ws = entries.filter((e) => Array.isArray(e._webSocketMessages) && e._webSocketMessages.length > 0);
const failures = [];
if (entries.length === 0) failures.push('no entries');
if (ws.length === 0) failures.push('no WebSocket entry with _webSocketMessages');
for (const e of ws) {
  for (const m of e._webSocketMessages) {
    if (!['send', 'receive'].includes(m.type) || typeof m.time !== 'number' ||
        typeof m.opcode !== 'number' || typeof m.data !== 'string') {
      failures.push(`bad message in ${e.request.url}: ${JSON.stringify(m).slice(0, 120)}`);
      break;
    }
  }
}
if (!entries.some((e) => e.response.headers.some((h) => h.name.toLowerCase() === 'apim-request-id'))) {
  failures.push('no apim-request-id header in any response');
}
if (text.includes('CANARY')) failures.push('a planted canary reached the HAR');
if (failures.length > 0) {
  for (const f of failures) console.error(f);
  process.exit(1);
}
console.log(`HAR valid: ${entries.length} entries, ${ws.length} WebSocket sessions`);
