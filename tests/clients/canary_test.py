#!/usr/bin/env python3
"""Plants canary secrets and content in every place the Realtime API and the HTTP endpoints carry
them, through the proxy with real clients. run_clients.sh then checks that no canary reached the
database (db, -wal, -shm) or the logs, while the correlation ids did."""
import base64
import http.client
import json
import os
import ssl
import sys

import websocket

PORT = int(os.environ["RT_PROXY_PORT"])
CA = os.environ["RT_PROXY_CA"]
HOST = "contoso.openai.azure.com"
C = "CANARY"


def realtime(path):
    ws = websocket.create_connection(
        f"wss://{HOST}{path}",
        http_proxy_host="127.0.0.1", http_proxy_port=PORT, proxy_type="http",
        sslopt={"ca_certs": CA}, timeout=20,
        header=[f"api-key: {C}HEADERKEY0123456789", f"Authorization: Bearer sk-{C}BEARER0123456789abcdef",
                f"Cookie: session={C}COOKIE"],
        subprotocols=["realtime", f"openai-insecure-api-key.{C}SUBPROTOKEY", "openai-beta.realtime-v1"])
    first = json.loads(ws.recv())
    assert first["type"] == "session.created", first
    sends = [
        {"type": "session.update", "session": {
            "type": "realtime", "instructions": f"{C}_INSTRUCTIONS you are a pirate",
            "tools": [{"type": "function", "name": "lookup", "description": f"{C}_TOOL_DESC",
                       "parameters": {"type": "object", "properties": {f"{C}_PARAM": {"type": "string"}}}},
                      {"type": "mcp", "server_label": "crm", "server_url": f"https://{C}.example/mcp",
                       "authorization": f"{C}_MCP_AUTH", "headers": {"X-Key": f"{C}_MCP_HEADER"}}],
            "prompt": {"id": "pmpt_1", "variables": {"name": f"{C}_PROMPT_VAR"}}}},
        {"type": "conversation.item.create", "item": {"type": "message", "role": "user",
            "content": [{"type": "input_text", "text": f"{C}_USER_TEXT my card is 4111"}]}},
        {"type": "input_audio_buffer.append",
         "audio": base64.b64encode((C + "_AUDIO").encode() * 500).decode()},
        {"type": "conversation.item.create", "item": {"type": "function_call_output",
            "call_id": "call_1", "output": f"{C}_TOOL_OUTPUT"}},
        {"type": "response.create", "response": {"instructions": f"{C}_RESPONSE_INSTR",
                                                  "metadata": {"k": f"{C}_META"}}},
    ]
    for msg in sends:
        ws.send(json.dumps(msg))
    for _ in range(200):
        m = json.loads(ws.recv())
        if m["type"] == "response.done":
            break
    ws.send(json.dumps({"type": "close.request"}))
    try:
        ws.recv()
    except Exception:
        pass
    ws.close()


def https(method, path, body, headers):
    ctx = ssl.create_default_context(cafile=CA)
    conn = http.client.HTTPSConnection("127.0.0.1", PORT, context=ctx, timeout=20)
    conn.set_tunnel(HOST, 443)
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


# The assistant's transcript (server content) carries a canary too.
realtime(f"/openai/v1/realtime?model=gpt-realtime&say={C}_ASSISTANT_SAYS")
realtime(f"/openai/realtime?api-version=2024-10-01-preview&deployment=gpt-4o&api-key={C}QUERYKEY")
status, _ = https("POST", "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
                  json.dumps({"stream": True, "messages": [{"role": "user", "content": f"{C}_CHAT"}]}),
                  {"api-key": f"{C}CHATKEY", "Content-Type": "application/json"})
assert status == 200, status
status, _ = https("POST", "/openai/v1/responses",
                  json.dumps({"input": f"{C}_RESPONSES_INPUT", "model": "gpt-4o"}),
                  {"Authorization": f"Bearer {C}RESPKEY", "Content-Type": "application/json"})
assert status == 200, status
status, _ = https("POST", "/echo", f"not json {C}_RAWBODY", {"Content-Type": "text/plain"})
assert status == 200, status
# /echo answers with the request's headers: canaries in a JSON response body from upstream.
# (OpenAI-Organization / OpenAI-Project are kept verbatim by the default policy on purpose:
# identifying, not secret; see realtime-protocol.md 9.2. No canary there.)
status, body = https("GET", "/echo", None, {"X-Custom": f"{C}_ECHOED_HEADER",
                                            "X-Ms-Client-Principal": f"{C}_PRINCIPAL"})
assert status == 200 and C.encode() in body, status
print("canaries planted")
