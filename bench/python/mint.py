"""twilio-python's AccessToken.to_jwt() on the same inputs; prints ops/s as JSON."""
import json
import time

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant


def mint():
    token = AccessToken(
        "AC0123456789abcdef0123456789abcdef",
        "SK0123456789abcdef0123456789abcdef",
        "bench-secret-0123456789abcdef0123",
        identity="ann.lee@example.com",
        ttl=3600,
    )
    token.add_grant(ChatGrant(service_sid="IS0123456789abcdef0123456789abcdef"))
    return token.to_jwt()


for _ in range(2000):
    mint()
n = 0
start = time.perf_counter()
while time.perf_counter() - start < 2.0:
    for _ in range(100):
        mint()
    n += 100
print(json.dumps({"per_s": round(n / (time.perf_counter() - start))}))
