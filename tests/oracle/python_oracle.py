"""Twilio's Python helper library and PyJWT as references.

Reads {"cases": [...], "ours": [...]} on stdin. For each case, writes what twilio-python
makes (decoded header and claims) and whether PyJWT verifies our token with the secret.
"""
import json
import sys
from unittest import mock

import jwt
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant

data = json.load(sys.stdin)
out = []
for case, ours in zip(data["cases"], data["ours"]):
    with mock.patch("time.time", return_value=case["now"]):
        kwargs = {"identity": case["identity"], "ttl": case["ttl"]}
        if case.get("nbf") is not None:
            kwargs["nbf"] = case["nbf"]
        if case.get("region"):
            kwargs["region"] = case["region"]
        token = AccessToken(case["accountSid"], case["keySid"], case["secret"], **kwargs)
        chat = case["chat"]
        token.add_grant(ChatGrant(
            service_sid=chat.get("serviceSid"),
            endpoint_id=chat.get("endpointId"),
            deployment_role_sid=chat.get("deploymentRoleSid"),
            push_credential_sid=chat.get("pushCredentialSid"),
        ))
        theirs = token.to_jwt()
    header = jwt.get_unverified_header(theirs)
    claims = jwt.decode(theirs, options={"verify_signature": False})
    try:
        verified = jwt.decode(
            ours, case["secret"], algorithms=["HS256"],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
        pyjwt = {"ok": True, "claims": verified}
    except Exception as e:  # noqa: BLE001 - the test reports what PyJWT said
        pyjwt = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    out.append({"header": header, "claims": claims, "pyjwt": pyjwt})
json.dump(out, sys.stdout)
