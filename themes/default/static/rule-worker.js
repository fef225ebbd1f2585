/* Passgate: runs a tenant's `validate(password, ctx)` rule off the page.
 *
 * The page (policy-live.js) terminates this worker if it does not answer within 200 ms.
 * The web layer MUST serve this file with its own header
 *   Content-Security-Policy: default-src 'none'; script-src 'unsafe-eval'
 * so the tenant code can compile (new Function) but has no network at all; the lines
 * below also remove the network and storage APIs as a second wall.
 */
'use strict';
(function () {
  var post = self.postMessage.bind(self);
  ['fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource', 'importScripts', 'indexedDB',
    'caches', 'BroadcastChannel', 'WebTransport', 'Worker', 'SharedWorker'].forEach(function (name) {
    try { Object.defineProperty(self, name, { value: undefined, configurable: false, writable: false }); } catch (e) { /* not present */ }
  });

  var compiled = { source: null, validate: null };

  function normalize(result) {
    if (!Array.isArray(result)) { throw new TypeError('validate must return an array'); }
    return result.map(function (entry) {
      if (typeof entry === 'string') { return { key: entry, params: {} }; }
      if (entry && typeof entry.key === 'string') {
        var params = {};
        Object.keys(entry.params || {}).forEach(function (name) { params[name] = String(entry.params[name]); });
        return { key: entry.key, params: params };
      }
      throw new TypeError('validate returned an invalid entry');
    });
  }

  self.onmessage = function (event) {
    var message = event.data || {};
    try {
      if (compiled.source !== message.source) {
        /* eslint-disable-next-line no-new-func */
        compiled.validate = new Function('"use strict";\n' + message.source + '\n;return validate;')();
        compiled.source = message.source;
      }
      var keys = normalize(compiled.validate(String(message.password), Object.freeze(message.ctx || {})));
      post({ id: message.id, keys: keys });
    } catch (e) {
      post({ id: message.id, error: true });
    }
  };
}());
