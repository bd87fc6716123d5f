'use strict';
// The Express 5 application of the HTTP benchmarks, one per contender: served over sockets
// by http-server.cjs (js/bench/http.mjs) and driven in-process by middleware.mjs.
//   app(kind, expressDir?) with kind express-session | tenure | none; `sessionModule`
//   replaces tenure/express (another build's, for before/after comparisons).
// Routes: GET /seed (a session with views = 0), GET /read, GET /inc, GET /new (a new
// session per request), GET /count (the counter, read without touching the benchmark).
const express = require('express');

const SECRET = 'a-benchmark-secret-of-at-least-32-bytes';

/** The benchmark's application for `kind`; `sessionModule` is tenure/express unless given. */
function makeApp(kind, sessionModule) {
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
    const { session } = sessionModule ?? require('tenure/express');
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
  return app;
}

module.exports = { makeApp };
