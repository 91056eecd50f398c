#!/usr/bin/env python3
"""One realtime session through relaytap whose response fails (the fake upstream's ?fail=response:
response.done with status "failed" and Azure's server_error message), so the store the report
checks read holds a failure with its request ids and the events before it."""
import json
import os
import sys
import time

import websocket

PORT = int(os.environ["RT_PROXY_PORT"])
CA = os.environ["RT_PROXY_CA"]
HOST = "contoso.openai.azure.com"


def main():
    ws = websocket.create_connection(
        f"wss://{HOST}/openai/v1/realtime?model=gpt-realtime&fail=response",
        http_proxy_host="127.0.0.1",
        http_proxy_port=PORT,
        proxy_type="http",
        sslopt={"ca_certs": CA},
        header=["api-key: test-key"],
        timeout=15,
    )
    try:
        ws.send(json.dumps({"type": "response.create"}))
        deadline = time.monotonic() + 15
        for _ in range(100):
            if time.monotonic() > deadline:
                break
            opcode, data = ws.recv_data()
            if opcode != websocket.ABNF.OPCODE_TEXT:
                continue
            ev = json.loads(data.decode("utf-8"))
            if ev.get("type") == "response.done":
                status = ev.get("response", {}).get("status")
                print(f"response.done status {status}")
                return 0 if status == "failed" else 1
        print("FAIL no response.done")
        return 1
    finally:
        ws.close(timeout=2)


if __name__ == "__main__":
    sys.exit(main())
