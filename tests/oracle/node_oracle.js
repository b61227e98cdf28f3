// Reads a JSON array of token inputs on stdin, writes the tokens twilio-node makes for
// them (same clock: Date.now is pinned to each case's `now`) as a JSON array on stdout.
'use strict';
const AccessToken = require('twilio').jwt.AccessToken;

const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const realNow = Date.now;
const out = cases.map((c) => {
  Date.now = () => c.now * 1000;
  try {
    const options = { identity: c.identity, ttl: c.ttl };
    if (c.nbf !== null && c.nbf !== undefined) options.nbf = c.nbf;
    if (c.region) options.region = c.region;
    const token = new AccessToken(c.accountSid, c.keySid, c.secret, options);
    token.addGrant(new AccessToken.ChatGrant({
      serviceSid: c.chat.serviceSid,
      endpointId: c.chat.endpointId ?? undefined,
      deploymentRoleSid: c.chat.deploymentRoleSid ?? undefined,
      pushCredentialSid: c.chat.pushCredentialSid ?? undefined,
    }));
    return { token: token.toJwt() };
  } catch (e) {
    return { error: String(e.message) };
  } finally {
    Date.now = realNow;
  }
});
process.stdout.write(JSON.stringify(out));
