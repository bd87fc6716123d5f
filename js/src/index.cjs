'use strict';
// Node entry (CommonJS): the wasm-bindgen `nodejs` build loads synchronously.
const wasm = require('../dist/node/tenure_wasm.js');
const { createApi } = require('./api.cjs');
const { FileStore, AsyncFileStore } = require('./file-store.cjs');

module.exports = { ...createApi(wasm), FileStore, AsyncFileStore };
