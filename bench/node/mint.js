// twilio-node's AccessToken.toJwt() on the same inputs as benches/token_mint.rs; prints ops/s.
'use strict';
const AccessToken = require('twilio').jwt.AccessToken;
const RUN_MS = 2000;
function mint() {
  const token = new AccessToken(
    'AC0123456789abcdef0123456789abcdef',
    'SK0123456789abcdef0123456789abcdef',
    'bench-secret-0123456789abcdef0123',
    { identity: 'ann.lee@example.com', ttl: 3600 },
  );
  token.addGrant(new AccessToken.ChatGrant({ serviceSid: 'IS0123456789abcdef0123456789abcdef' }));
  return token.toJwt();
}
for (let i = 0; i < 2000; i++) mint();
let n = 0;
const start = process.hrtime.bigint();
let elapsed = 0;
while (elapsed < RUN_MS) {
  for (let i = 0; i < 100; i++) mint();
  n += 100;
  elapsed = Number(process.hrtime.bigint() - start) / 1e6;
}
console.log(JSON.stringify({ per_s: Math.round((n * 1000) / elapsed) }));
