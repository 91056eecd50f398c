#include "tools/doctor/clients.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "absl/status/status.h"
#include "base/str_cat.h"
#include "proxy/tls/ca_files.h"

namespace relaytap::tools::doctor {
namespace {

namespace fs = std::filesystem;

constexpr std::array<ClientCheck, 8> kChecks = {{
    {"curl", Program::kCurl, "", "curl", false},
    {"python-requests", Program::kPython, "requests", "python-requests", false},
    {"python-httpx", Program::kPython, "httpx", "python-httpx", false},
    {"python-aiohttp", Program::kPython, "aiohttp", "python-aiohttp", false},
    {"python-websocket-client", Program::kPython, "websocket-client", "python-websocket-client",
     true},
    {"python-websockets", Program::kPython, "websockets", "python-websockets", true},
    {"node-fetch", Program::kNode, "fetch", "node", false},
    {"node-ws", Program::kNode, "ws", "node", true},
}};

// argv: LIBRARY URL TIMEOUT_MS (URL "-": only say whether it is installed). Prints one JSON line:
// {"found": false, "why"} when the library does not import, else {"found": true, "version", "ok",
// "status", "body"} or {..., "error"}. Each library is used as an app would use it, with its
// defaults: proxy and trust come from the environment.
constexpr std::string_view kPythonClient = R"PY(import json, sys
lib, url, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3]) / 1000.0
modules = {"requests": "requests", "httpx": "httpx", "aiohttp": "aiohttp",
           "websocket-client": "websocket", "websockets": "websockets"}

def emit(d):
    sys.stdout.write(json.dumps(d) + "\n")
    sys.stdout.flush()

def describe(e):
    parts, seen = [], set()
    while e is not None and id(e) not in seen and len(parts) < 6:
        seen.add(id(e))
        parts.append("%s: %s" % (type(e).__name__, e))
        e = e.__cause__ or e.__context__
    return " <- ".join(parts)

try:
    mod = __import__(modules[lib])
except Exception as e:
    emit({"found": False, "why": describe(e)})
    sys.exit(0)
version = "python %d.%d.%d, %s %s" % (sys.version_info[:3] + (lib, getattr(mod, "__version__", "?")))
if url == "-":  # only whether it is installed
    emit({"found": True, "version": version, "ok": False, "error": ""})
    sys.exit(0)

def run():
    if lib in ("requests", "httpx"):
        r = mod.get(url, timeout=timeout)
        return r.status_code, r.text
    if lib == "aiohttp":
        import asyncio
        async def go():
            async with mod.ClientSession(trust_env=True,
                                         timeout=mod.ClientTimeout(total=timeout)) as s:
                async with s.get(url) as r:
                    return r.status, await r.text()
        return asyncio.run(go())
    if lib == "websocket-client":
        ws = mod.create_connection(url, timeout=timeout)
        try:
            return 101, ws.recv()
        finally:
            ws.close()
    import asyncio
    async def go():  # the asyncio client: in every version (the sync one came in 11)
        async with mod.connect(url, open_timeout=timeout, close_timeout=timeout) as ws:
            return 101, await asyncio.wait_for(ws.recv(), timeout)
    return asyncio.run(go())

try:
    status, body = run()
    emit({"found": True, "version": version, "ok": True, "status": status, "body": body})
except BaseException as e:
    emit({"found": True, "version": version, "ok": False, "error": describe(e)})
)PY";

// argv: MODE URL TIMEOUT_MS (URL "-" as for Python), MODE `fetch` (Node's built-in fetch, as an app
// calls it) or `ws` (the `ws` package, resolved from the current directory or NODE_PATH). Node
// itself does not read HTTPS_PROXY before version 24, so an app must hand `ws` an agent: the script
// does what such an agent does (CONNECT through HTTPS_PROXY unless NO_PROXY covers the host), and
// the TLS on top trusts what Node trusts (its roots and NODE_EXTRA_CA_CERTS). Same output as the
// Python client.
constexpr std::string_view kNodeClient = R"JS('use strict';
const http = require('http');
const tls = require('tls');
const path = require('path');
const { createRequire } = require('module');
const [mode, url, timeoutMs] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const version = `node ${process.version}`;
const emit = (d) => { process.stdout.write(JSON.stringify(d) + '\n'); process.exit(0); };
function describe(e) {
  const parts = [];
  for (let c = e, i = 0; c && i < 6; c = c.cause, i++) {
    parts.push(`${c.name || 'Error'}${c.code ? ' ' + c.code : ''}: ${c.message}`);
  }
  return parts.join(' <- ');
}
setTimeout(() => emit({ found: true, version, ok: false,
                        error: `TimeoutError: no answer within ${timeoutMs} ms` }), timeoutMs);

function loadWs() {
  const fromCwd = createRequire(path.join(process.cwd(), 'noop.js'));
  for (const req of [fromCwd, require]) {
    try { return { ws: req('ws'), where: req.resolve('ws') }; } catch (e) {}
  }
  return null;
}
function proxyFor(host) {
  const noProxy = (process.env.no_proxy || process.env.NO_PROXY || '').split(',')
      .map((s) => s.trim().toLowerCase()).filter((s) => s);
  for (const n of noProxy) {
    const bare = n.replace(/^\*?\./, '');
    if (n === '*' || host === bare || host.endsWith('.' + bare)) return null;
  }
  const p = process.env.https_proxy || process.env.HTTPS_PROXY || '';
  return p ? new URL(p.includes('://') ? p : 'http://' + p) : null;
}
function tunnel(proxy, host, port) {
  return new Promise((resolve, reject) => {
    const headers = { Host: `${host}:${port}` };
    if (proxy.username) {
      const cred = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
      headers['Proxy-Authorization'] = 'Basic ' + Buffer.from(cred).toString('base64');
    }
    const req = http.request({ method: 'CONNECT', host: proxy.hostname,
                               port: proxy.port || 80, path: `${host}:${port}`, headers });
    req.on('connect', (res, socket) => res.statusCode === 200 ? resolve(socket)
        : reject(new Error(`proxy CONNECT answered ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}
async function viaFetch() {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: r.status, body: await r.text() };
}
async function viaWs(WebSocket) {
  const u = new URL(url);
  const opts = { handshakeTimeout: timeoutMs, perMessageDeflate: false };
  const proxy = proxyFor(u.hostname);
  if (proxy) {
    const socket = await tunnel(proxy, u.hostname, u.port || 443);
    opts.createConnection = (o) => tls.connect({ ...o, socket });
  }
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    let body = null;
    ws.on('message', (d) => { body = d.toString(); });
    ws.on('close', (code) => body !== null ? resolve({ status: 101, body })
        : reject(new Error(`closed (${code}) before any message`)));
    ws.on('error', reject);
  });
}
(async () => {
  let run = viaFetch;
  let v = version;
  if (mode === 'ws') {
    const found = loadWs();
    if (!found) emit({ found: false, why: "the 'ws' package does not resolve (current directory, NODE_PATH)" });
    let wsVersion = '?';
    try { wsVersion = require(path.join(path.dirname(found.where), 'package.json')).version; } catch (e) {}
    v = `${version}, ws ${wsVersion}`;
    run = () => viaWs(found.ws);
  } else if (typeof fetch !== 'function') {
    emit({ found: false, why: 'this Node has no built-in fetch (Node 18 or later has)' });
  }
  if (url === '-') emit({ found: true, version: v, ok: false, error: '' });  // only whether found
  try {
    const r = await run();
    emit({ found: true, version: v, ok: true, status: r.status, body: r.body });
  } catch (e) {
    emit({ found: true, version: v, ok: false, error: describe(e) });
  }
})();
)JS";

}  // namespace

std::span<const ClientCheck> AllClientChecks() { return kChecks; }

const ClientCheck* FindClientCheck(std::string_view name) {
  for (const ClientCheck& c : kChecks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string_view ProgramName(Program p) {
  switch (p) {
    case Program::kCurl:
      return "curl";
    case Program::kPython:
      return "python3";
    case Program::kNode:
      return "node";
  }
  return "";
}

std::string_view PythonClientScript() { return kPythonClient; }
std::string_view NodeClientScript() { return kNodeClient; }

absl::StatusOr<ScriptDir> ScriptDir::Create() {
  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string tmpl = (base / "relaytap-doctor-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {  // mode 0700
    return absl::InternalError(
        StrCat("creating a temporary directory in ", base.string(), ": ", std::strerror(errno)));
  }
  ScriptDir dir{fs::path(tmpl)};
  for (Program p : {Program::kPython, Program::kNode}) {
    const std::string_view text = p == Program::kPython ? kPythonClient : kNodeClient;
    if (absl::Status st = proxy::tls::WriteNewFile(dir.ScriptFor(p), text, 0600); !st.ok()) {
      return st;
    }
  }
  return dir;
}

ScriptDir::ScriptDir(ScriptDir&& other) noexcept : dir_(std::move(other.dir_)) {
  other.dir_.clear();
}

ScriptDir::~ScriptDir() {
  if (dir_.empty()) return;
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

fs::path ScriptDir::ScriptFor(Program p) const {
  switch (p) {
    case Program::kPython:
      return dir_ / "doctor_client.py";
    case Program::kNode:
      return dir_ / "doctor_client.cjs";
    case Program::kCurl:
      break;
  }
  return {};
}

}  // namespace relaytap::tools::doctor
