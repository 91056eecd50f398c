#!/usr/bin/env python3
"""http.client through relaytap (CONNECT via set_tunnel) with only relaytap's CA trusted and
VERIFY_X509_STRICT set, as Python 3.13 does by default: the minted leaf must pass strict checks."""
import http.client
import json
import os
import ssl
import sys

PORT = int(os.environ["RT_PROXY_PORT"])
CA = os.environ["RT_PROXY_CA"]
FAKE_PORT = int(os.environ["RT_FAKE_PORT"])
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def strict_context():
    ctx = ssl.create_default_context(cafile=CA)  # loads only relaytap's CA
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    if hasattr(ssl, "VERIFY_X509_PARTIAL_CHAIN"):
        ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # also a 3.13 default
    return ctx


def get_echo(host, port, label):
    conn = http.client.HTTPSConnection("127.0.0.1", PORT, timeout=15, context=strict_context())
    conn.set_tunnel(host, port)
    try:
        conn.request("GET", "/echo?api-version=2024-10-21", headers={"api-key": "test-key"})
        resp = conn.getresponse()
        body = resp.read()
        ok = resp.status == 200 and json.loads(body).get("method") == "GET"
        check(ok, f"{label}: GET /echo via CONNECT {host}:{port} with VERIFY_X509_STRICT (status {resp.status})")
    except Exception as e:  # noqa: BLE001
        check(False, f"{label}: {type(e).__name__}: {e}")
    finally:
        conn.close()


def main():
    print(f"{ssl.OPENSSL_VERSION}, python {sys.version.split()[0]}")
    get_echo("contoso.openai.azure.com", 443, "DNS name")
    # A literal IP: the proxy is started with --intercept 127.0.0.1, so it must mint a leaf with
    # an IP SAN that passes strict checks; the fake upstream's leaf carries IP:127.0.0.1.
    get_echo("127.0.0.1", FAKE_PORT, "literal IP")
    print(f"{len(FAILS)} failure(s)")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
