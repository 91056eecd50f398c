#!/usr/bin/env python3
"""websocket-client straight to `relaytap fake-upstream` (TLS, no proxy): the realtime stream of
the GA and preview paths, an upgrade refused by a per-deployment rule, and (on a second server with
--fault response_failed=100) a failed response naming the session.
Env: RT_FAKE_PORT (realtime stream, rule broken:upgrade_5xx=100), RT_FAULT_PORT, RT_UPSTREAM_CA."""
import base64
import json
import os
import sys
import time

import websocket

CA = os.environ["RT_UPSTREAM_CA"]
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)
    return cond


def connect(port, path):
    return websocket.create_connection(
        f"wss://127.0.0.1:{port}{path}",
        sslopt={"ca_certs": CA},
        header=["api-key: test-key"],
        subprotocols=["realtime"],
        timeout=15,
    )


def recv_json(ws):
    opcode, data = ws.recv_data()
    if opcode != websocket.ABNF.OPCODE_TEXT:
        raise AssertionError(f"expected a text frame, got opcode {opcode}")
    return json.loads(data.decode("utf-8"))


def one_response(ws):
    ws.send(json.dumps({"type": "response.create"}))
    events = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(events) < 500:
        ev = recv_json(ws)
        events.append(ev)
        if ev.get("type") in ("response.done", "error"):
            break
    return events


def realtime_session(port, path, label):
    ws = connect(port, path)
    try:
        check(ws.getsubprotocol() == "realtime", f"{label}: subprotocol realtime echoed")
        headers = ws.getheaders() or {}
        check(bool(headers.get("apim-request-id")) and bool(headers.get("x-ms-region")),
              f"{label}: apim-request-id and x-ms-region on the 101")
        created = recv_json(ws)
        check(created.get("type") == "session.created", f"{label}: session.created first")
        events = one_response(ws)
        types = [e.get("type") for e in events]
        check(types[:4] == ["response.created", "rate_limits.updated",
                            "response.output_item.added", "response.content_part.added"],
              f"{label}: the lifecycle opens the response ({types[:4]})")
        # The preview path speaks the preview dialect (response.audio.delta), GA the GA one.
        delta_type = "response.audio.delta" if label == "preview" else "response.output_audio.delta"
        deltas = [e["delta"] for e in events if e.get("type") == delta_type]
        check(len(deltas) == 10, f"{label}: 200 ms of audio in 10 deltas ({len(deltas)})")
        check(all(len(base64.b64decode(d)) == 960 for d in deltas),
              f"{label}: each delta is 20 ms of 24 kHz PCM16 (960 bytes)")
        done = events[-1]
        check(done.get("type") == "response.done" and done["response"]["status"] == "completed",
              f"{label}: response.done completed")
        check(done["response"]["usage"]["total_tokens"] > 0, f"{label}: response.done has usage")
    finally:
        ws.close(timeout=2)


def refused_upgrade(port):
    try:
        connect(port, "/openai/v1/realtime?model=broken").close()
        check(False, "rule broken:upgrade_5xx=100 refuses the upgrade")
    except websocket.WebSocketBadStatusException as e:
        check(e.status_code == 503, f"rule broken:upgrade_5xx=100 -> HTTP {e.status_code}")


def failed_response(port):
    ws = connect(port, "/openai/v1/realtime?model=gpt-realtime")
    try:
        session_id = recv_json(ws)["session"]["id"]
        done = one_response(ws)[-1]
        error = done["response"]["status_details"]["error"]
        check(done["response"]["status"] == "failed" and error["type"] == "server_error",
              "--fault response_failed=100 -> response.done failed / server_error")
        check(f"(Please include the session ID {session_id} in your message.)" in error["message"],
              "the server_error message names the session id")
    finally:
        ws.close(timeout=2)


def main():
    steps = (
        lambda: realtime_session(int(os.environ["RT_FAKE_PORT"]),
                                 "/openai/v1/realtime?model=gpt-realtime", "GA"),
        lambda: realtime_session(int(os.environ["RT_FAKE_PORT"]),
                                 "/openai/realtime?api-version=2025-04-01-preview&deployment=gpt-realtime",
                                 "preview"),
        lambda: refused_upgrade(int(os.environ["RT_FAKE_PORT"])),
        lambda: failed_response(int(os.environ["RT_FAULT_PORT"])),
    )
    for step in steps:
        try:
            step()
        except Exception as e:  # noqa: BLE001 - any failure is a test failure
            check(False, f"{type(e).__name__}: {e}")
    print(f"websocket-client {websocket.__version__}: {len(FAILS)} failure(s)")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
