// twilio-node 6.3.1's webhook signatures: the reference for chatpass's, next to twilio-python's.
//
// Reads a JSON array of cases on stdin, each
//   {"token": …, "urls": [url, …], "params": [[name, value], …], "signatures": [sig, …]}
// and writes, for each case,
//   {"expected": [getExpectedTwilioSignature(token, url, params) for each url],
//    "valid": [validateRequest(token, sig, urls[0], params) for each sig]}
// (an exception is written as {"error": message} in its place).
//
// The params reach the library as Express's urlencoded body parser (Node's querystring) hands
// them over: an object without a prototype, a name sent once as a string, a name sent several
// times as the array of its values in the order sent.
'use strict';
const twilio = require('twilio');

function form(pairs) {
  const params = Object.create(null);
  for (const [name, value] of pairs) {
    if (!(name in params)) params[name] = value;
    else if (Array.isArray(params[name])) params[name].push(value);
    else params[name] = [params[name], value];
  }
  return params;
}

function attempt(f) {
  try {
    return f();
  } catch (e) {
    return { error: String(e && e.message) };
  }
}

const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = cases.map((c) => {
  const params = form(c.params);
  const url = c.urls[0];
  return {
    expected: c.urls.map((u) => attempt(() => twilio.getExpectedTwilioSignature(c.token, u, params))),
    valid: c.signatures.map((s) => attempt(() => twilio.validateRequest(c.token, s, url, params))),
  };
});
process.stdout.write(JSON.stringify(out));
