#!/usr/bin/env python3
"""websocket-client (Debian python3-websocket) through relaytap to the fake upstream's realtime
endpoints: GA path /openai/v1/realtime and the preview path /openai/realtime."""
import base64
import json
import os
import struct
import sys
import time

import websocket

PORT = int(os.environ["RT_PROXY_PORT"])
CA = os.environ["RT_PROXY_CA"]
HOST = "contoso.openai.azure.com"
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)
    return cond


def connect(path):
    return websocket.create_connection(
        f"wss://{HOST}{path}",
        http_proxy_host="127.0.0.1",
        http_proxy_port=PORT,
        proxy_type="http",
        sslopt={"ca_certs": CA},
        header=["api-key: test-key"],
        timeout=15,
    )


def recv_json(ws):
    opcode, data = ws.recv_data()
    if opcode != websocket.ABNF.OPCODE_TEXT:
        raise AssertionError(f"expected a text frame, got opcode {opcode}")
    return json.loads(data.decode("utf-8"))


def session(path, label):
    ws = connect(path)
    try:
        first = recv_json(ws)
        check(first.get("type") == "session.created", f"{label}: session.created first ({first.get('type')})")

        audio = base64.b64encode(bytes(range(256)) * 64).decode("ascii")
        append = json.dumps({"type": "input_audio_buffer.append", "audio": audio})
        ws.send(append)
        echoed = ws.recv_data()
        check(echoed == (websocket.ABNF.OPCODE_TEXT, append.encode()),
              f"{label}: input_audio_buffer.append echoed byte-identical ({len(append)} bytes)")

        ws.send(json.dumps({"type": "response.create"}))
        types = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(types) < 50:
            ev = recv_json(ws)
            types.append(ev.get("type"))
            if ev.get("type") == "response.done":
                break
        check(types[:1] == ["response.created"] and types[-1:] == ["response.done"],
              f"{label}: response.created ... response.done")
        check(types.count("response.output_audio.delta") == 5,
              f"{label}: 5 audio deltas ({types.count('response.output_audio.delta')})")
        check(types.count("response.output_audio_transcript.delta") == 2, f"{label}: 2 transcript deltas")

        blob = os.urandom(70000) + b"\x00\xff" * 10
        ws.send_binary(blob)
        opcode, data = ws.recv_data()
        check(opcode == websocket.ABNF.OPCODE_BINARY and data == blob,
              f"{label}: binary echo byte-identical ({len(blob)} bytes)")

        ws.send(json.dumps({"type": "close.request"}))
        code = None
        for _ in range(10):
            opcode, frame = ws.recv_data_frame(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                payload = frame.data if hasattr(frame, "data") else frame
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                break
        check(code == 1000, f"{label}: close.request -> close 1000 ({code})")
    finally:
        ws.close(timeout=2)


def main():
    for path, label in (
        # echo=1: the fake upstream's byte-echo endpoint (this test checks byte identity).
        ("/openai/v1/realtime?model=gpt-realtime&echo=1", "GA"),
        ("/openai/realtime?api-version=2024-10-01-preview&deployment=gpt-4o-realtime-preview&echo=1",
         "preview"),
    ):
        try:
            session(path, label)
        except Exception as e:  # noqa: BLE001 - any failure is a test failure
            check(False, f"{label}: {type(e).__name__}: {e}")
    print(f"websocket-client {websocket.__version__}: {len(FAILS)} failure(s)")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
