"""twilio-python (the pinned tests/oracle/requirements.txt) calling the Conversations Users API
of a service, pointed at a stand-in (tests/twilio/standin.py): the reference for the
requests chatpass sends.

Reads JSON on stdin:
  {"base_url": "http://127.0.0.1:PORT", "account_sid": "AC...", "api_key": "SK...",
   "api_secret": "...", "service_sid": "IS...", "timeout": 10 (optional, seconds),
   "ops": [{"op": "create", "identity": "...", "friendly_name": "..."},
           {"op": "update", "identity": "...", "friendly_name": "..."},
           {"op": "fetch", "identity": "..."},
           {"op": "delete", "identity": "..."},
           {"op": "list", "page_size": N}]}
("friendly_name" may be left out: twilio-python then sends no FriendlyName.)

Writes JSON on stdout: a list, one result per op, in order:
  {"ok": true, "user": {"sid", "identity", "friendly_name"}}   create, update, fetch
  {"ok": true}                                                 delete
  {"ok": true, "identities": [...]}                            list (every page)
  {"ok": false, "status": 409, "code": 50201, "message": "..."} a TwilioRestException
  {"ok": false, "error": "..."}                                anything else
Run with .tools/oracle-venv/bin/python (`make oracles`).
"""

import json
import os
import sys

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client


def user_json(user):
    return {"sid": user.sid, "identity": user.identity, "friendly_name": user.friendly_name}


def run(users, op):
    kind = op["op"]
    extra = {}
    if "friendly_name" in op:
        extra["friendly_name"] = op["friendly_name"]
    if kind == "create":
        return {"ok": True, "user": user_json(users.create(identity=op["identity"], **extra))}
    if kind == "update":
        return {"ok": True, "user": user_json(users(op["identity"]).update(**extra))}
    if kind == "fetch":
        return {"ok": True, "user": user_json(users(op["identity"]).fetch())}
    if kind == "delete":
        users(op["identity"]).delete()
        return {"ok": True}
    if kind == "list":
        found = users.list(**({"page_size": op["page_size"]} if "page_size" in op else {}))
        return {"ok": True, "identities": [u.identity for u in found]}
    raise ValueError(f"unknown op {kind!r}")


def main():
    spec = json.load(sys.stdin)
    # The stand-in is on loopback: never through a proxy from the environment.
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    client = Client(
        spec["api_key"],
        spec["api_secret"],
        spec["account_sid"],
        http_client=TwilioHttpClient(timeout=spec.get("timeout", 10)),
    )
    # Domain.absolute_url reads base_url on every request: the whole Conversations domain
    # (paths /v1/...) goes to the stand-in.
    client.conversations.base_url = spec["base_url"]
    users = client.conversations.v1.services(spec["service_sid"]).users
    results = []
    for op in spec["ops"]:
        try:
            results.append(run(users, op))
        except TwilioRestException as e:
            results.append({"ok": False, "status": e.status, "code": e.code, "message": e.msg})
        except Exception as e:  # noqa: BLE001 - reported, the next op still runs
            results.append({"ok": False, "error": f"{type(e).__name__}: {e}"})
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
