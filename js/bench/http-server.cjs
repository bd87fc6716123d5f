'use strict';
// One server of the HTTP benchmark (js/bench/http.mjs starts it as a child process):
//   node http-server.cjs express-session | tenure | none
// The application and its routes are in http-app.cjs.
const { makeApp } = require('./http-app.cjs');

const app = makeApp(process.argv[2]);
process.on('SIGINT', () => process.exit(0)); // (lets node --cpu-prof write its profile)
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
