// A Node/Express token server in the style of Twilio's sdk-starter-node, with a session
// (express-session) so the comparison is like for like: POST /login signs a user in,
// POST /token issues a Chat token for the session's identity.
'use strict';
const express = require('express');
const session = require('express-session');
const AccessToken = require('twilio').jwt.AccessToken;

const app = express();
app.use(express.urlencoded({ extended: false }));
app.use(session({ secret: 'bench-session-secret', resave: false, saveUninitialized: false }));
app.post('/login', (req, res) => {
  req.session.identity = req.body.email || 'ann.lee@example.com';
  res.json({ ok: true });
});
app.post('/token', (req, res) => {
  if (!req.session.identity) return res.status(401).json({ error: 'not_signed_in' });
  const token = new AccessToken(
    'AC0123456789abcdef0123456789abcdef',
    'SK0123456789abcdef0123456789abcdef',
    'bench-secret-0123456789abcdef0123',
    { identity: req.session.identity, ttl: 3600 },
  );
  token.addGrant(new AccessToken.ChatGrant({ serviceSid: 'IS0123456789abcdef0123456789abcdef' }));
  res.json({ token: token.toJwt(), identity: req.session.identity });
});
app.get('/healthz', (req, res) => res.json({ status: 'ok' }));
const port = Number(process.env.PORT || 3100);
app.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
