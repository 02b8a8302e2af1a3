"""Writes groups through Hearth's API as fast as it is answered, logging
each acknowledged write as "<epoch seconds> <record id>" (flushed per line),
until killed. Used by scripts/docker-test.sh's Litestream test.

usage: litestream-writer.py BASE_URL TOKEN ACK_LOG
"""
import json
import sys
import time
import urllib.error
import urllib.request

base, token, ack_log = sys.argv[1:4]
with open(ack_log, "a", buffering=1) as log:
    i = 0
    while True:
        i += 1
        req = urllib.request.Request(
            base + "/api/collections/groups/records",
            data=json.dumps({"name": f"write {i}"}).encode(),
            headers={"Content-Type": "application/json", "Authorization": token},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as res:
                record = json.load(res)
        except urllib.error.HTTPError as err:
            # Refused writes are not acknowledged; say why.
            print(f"{time.time():.3f} HTTP {err.code}: {err.read()[:200]!r}", file=sys.stderr, flush=True)
            time.sleep(0.05)
            continue
        except OSError:
            # The server was killed: nothing more is acknowledged.
            time.sleep(0.05)
            continue
        log.write(f"{time.time():.6f} {record['id']}\n")
