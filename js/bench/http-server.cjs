'use strict';
// One server of the HTTP benchmark (js/bench/http.mjs starts it as a child process):
//   node http-server.cjs express-session | tenure | none
// Routes: GET /seed (a session with views = 0), GET /read, GET /inc, GET /new (a new
// session per request), GET /count (the counter, read without touching the benchmark).
const express = require('express');

const SECRET = 'a-benchmark-secret-of-at-least-32-bytes';
const kind = process.argv[2];
const app = express();
app.disable('etag');
app.disable('x-powered-by');
let plain = 0; // the "no session" contender's counter
let handled = 0; // /inc requests answered since /seed

if (kind === 'express-session') {
  const expressSession = require('express-session');
  app.use(expressSession({ secret: SECRET, resave: false, saveUninitialized: false, cookie: { secure: false } }));
  app.get('/inc', (req, res) => { handled += 1; req.session.views = (req.session.views ?? 0) + 1; res.json({ views: req.session.views }); });
} else if (kind === 'tenure') {
  const { session } = require('tenure/express');
  app.use(session({ secret: SECRET, cookie: { secure: false } }));
  app.get('/inc', (req, res) => { handled += 1; res.json({ views: req.tenure.increment('views') }); });
} else if (kind === 'none') {
  app.use((req, res, next) => { req.session = {}; next(); });
  app.get('/inc', (req, res) => { handled += 1; plain += 1; res.json({ views: plain }); });
} else {
  throw new Error(`unknown contender ${kind}`);
}
app.get('/seed', (req, res) => { handled = 0; if (kind === 'none') plain = 0; else req.session.views = 0; res.json({ ok: true }); });
app.get('/read', (req, res) => { res.json({ views: req.session.views ?? null }); });
app.get('/new', (req, res) => { req.session.views = 1; res.json({ views: 1 }); });
app.get('/count', (req, res) => { res.json({ handled, views: kind === 'none' ? plain : req.session.views ?? null }); });

process.on('SIGINT', () => process.exit(0)); // (lets node --cpu-prof write its profile)
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
