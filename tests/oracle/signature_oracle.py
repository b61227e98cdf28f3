"""twilio-python 9.13.0's RequestValidator: the reference for chatpass's webhook signatures.

Reads a JSON array of cases on stdin, each
  {"token": …, "urls": [url, …], "params": [[name, value], …], "signatures": [sig, …],
   "body": form body}
and writes, for each case,
  {"expected": [compute_signature(url, params) for each url],
   "valid": [validate(urls[0], params, sig) for each sig],
   "form": parse_qsl(body, keep_blank_values=True),
   "round_trips": urlparse(urls[0]).geturl() == urls[0]}
`round_trips` says whether `validate` looks at the URL it was given at all: it rebuilds the URL
with urlparse before signing it (with and without the port).

A name sent several times reaches the validator the way Django's QueryDict and Werkzeug's
MultiDict hand it over: every value through `getlist(name)`.
"""
import json
import sys
from urllib.parse import parse_qsl, urlparse

from twilio.request_validator import RequestValidator


class Form(dict):
    """name -> [values], in the order sent; `getlist` as Django's and Werkzeug's forms."""

    def __init__(self, pairs):
        super().__init__()
        for name, value in pairs:
            self.setdefault(name, []).append(value)

    def getlist(self, name):
        return self[name]


out = []
for case in json.load(sys.stdin):
    validator = RequestValidator(case["token"])
    params = Form(case["params"])
    url = case["urls"][0]
    out.append({
        "expected": [validator.compute_signature(u, params) for u in case["urls"]],
        "valid": [validator.validate(url, params, s) for s in case["signatures"]],
        "form": parse_qsl(case["body"], keep_blank_values=True),
        "round_trips": urlparse(url).geturl() == url,
    })
json.dump(out, sys.stdout)
