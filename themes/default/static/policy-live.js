/* Passgate live password feedback for new_password.html.
 *
 * Progressive enhancement only: the form posts without it and the server is the
 * authority. Reads the policy payload from <script type="application/json" id="pg-policy">
 * (shape: docs/themes.md), checks length, UTF-8 bytes, character classes and regex rules
 * (through the server-derived `browser_pattern`) here, and runs the tenant's JavaScript rule in a Web Worker (rule-worker.js) that is
 * terminated if it does not answer within WORKER_TIMEOUT_MS. Strength, personal
 * information and the blocklist are asked of the server's live check
 * (POST <form action>/check, debounced); without an answer they stay "checked when you
 * submit".
 */
(function () {
  'use strict';

  var WORKER_TIMEOUT_MS = 200;
  var DEBOUNCE_MS = 120;

  var me = document.currentScript;
  var form = document.getElementById('pg-new-password');
  if (!form) { return; }
  var password = form.querySelector('#password');
  var confirmation = form.querySelector('#password_confirm');
  var toggle = form.querySelector('.pg-toggle');
  var list = document.getElementById('pg-rules');
  var confirmStatus = document.getElementById('pg-confirm-status');

  // Show/hide both password fields; the button stays hidden without JavaScript.
  if (toggle && password) {
    toggle.hidden = false;
    toggle.addEventListener('click', function () {
      var show = password.type === 'password';
      [password, confirmation].forEach(function (input) {
        if (input) { input.type = show ? 'text' : 'password'; }
      });
      toggle.setAttribute('aria-pressed', show ? 'true' : 'false');
      toggle.textContent = show ? toggle.getAttribute('data-hide') : toggle.getAttribute('data-show');
    });
  }

  function updateConfirmation() {
    if (!confirmStatus || !confirmation || !password) { return; }
    var differs = confirmation.value !== '' && confirmation.value !== password.value;
    confirmStatus.textContent = differs ? confirmStatus.getAttribute('data-mismatch') : '';
    confirmation.setAttribute('aria-invalid', differs ? 'true' : 'false');
  }
  if (confirmation) { confirmation.addEventListener('input', updateConfirmation); }

  var payload = document.getElementById('pg-policy');
  var policy = null;
  try { policy = payload ? JSON.parse(payload.textContent) : null; } catch (e) { policy = null; }
  if (!policy || !list || !password) {
    if (password) { password.addEventListener('input', updateConfirmation); }
    return;
  }
  var messages = policy.messages || {};

  // Same definitions as the server (Rust char::is_lowercase, is_uppercase, is_numeric,
  // !is_alphanumeric).
  var CLASSES = {
    lowercase: /\p{Lowercase}/u,
    uppercase: /\p{Uppercase}/u,
    digit: /\p{N}/u,
    symbol: /[^\p{Alphabetic}\p{N}]/u
  };

  // Regex rules run as the server derived them (`browser_pattern`: the same matches as its
  // Rust pattern, classes and case folding written out). A rule without one, or one this
  // browser cannot compile, is left to the server and marked "checked when you submit".
  var regexRules = (policy.regex_rules || []).map(function (rule) {
    try {
      if (typeof rule.browser_pattern !== 'string') { throw new Error('server only'); }
      return { name: rule.name, re: new RegExp(rule.browser_pattern, 'u'), mustMatch: rule.must_match !== false, message: rule.message };
    } catch (e) { markServerOnly('regex:' + rule.name); return null; }
  }).filter(Boolean);

  function format(text, params) {
    return String(text).replace(/\{([A-Za-z0-9_]+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(params || {}, name) ? String(params[name]) : whole;
    });
  }

  function markServerOnly(code) {
    var li = item(code);
    if (!li || li.getAttribute('data-state') === 'server') { return; }
    li.setAttribute('data-state', 'server');
    var note = document.createElement('span');
    note.className = 'pg-rule-note';
    note.textContent = ' (' + list.getAttribute('data-server-note') + ')';
    li.insertBefore(note, li.querySelector('.pg-rule-state'));
  }

  function item(code) {
    var items = list.querySelectorAll('li[data-rule]');
    for (var i = 0; i < items.length; i++) {
      if (items[i].getAttribute('data-rule') === code) { return items[i]; }
    }
    return null;
  }

  function setState(code, state) {
    var li = item(code);
    if (!li || li.getAttribute('data-state') === 'server') { return; }
    li.setAttribute('data-state', state);
    var label = li.querySelector('.pg-rule-state');
    var word = state === 'met' ? list.getAttribute('data-met')
      : state === 'unmet' ? list.getAttribute('data-unmet')
      : state === 'unavailable' ? list.getAttribute('data-unavailable') : '';
    if (label) { label.textContent = word ? ' (' + word + ')' : ''; }
  }

  // Rules that only show up when broken (byte length, script keys) get their own items.
  function setDynamic(code, text, show) {
    var li = item(code);
    if (!show) { if (li && li.getAttribute('data-dynamic') === 'true') { li.remove(); } return; }
    if (!li) {
      li = document.createElement('li');
      li.setAttribute('data-rule', code);
      li.setAttribute('data-dynamic', 'true');
      var icon = document.createElement('span');
      icon.className = 'pg-rule-icon';
      icon.setAttribute('aria-hidden', 'true');
      var body = document.createElement('span');
      body.className = 'pg-rule-text';
      var state = document.createElement('span');
      state.className = 'pg-sr pg-rule-state';
      li.appendChild(icon); li.appendChild(body); li.appendChild(state);
      list.appendChild(li);
    }
    li.querySelector('.pg-rule-text').textContent = text;
    setState(code, 'unmet');
  }

  function checkLocal(pw) {
    var length = Array.from(pw).length;
    if (policy.min_length != null) { setState('policy.min_length', length >= policy.min_length ? 'met' : 'unmet'); }
    if (policy.max_length != null) {
      // A bound nobody reaches by typing is not listed (see LISTED_MAX_LENGTH); it shows
      // up only once a paste goes past it.
      var tooLong = length > policy.max_length;
      if (item('policy.max_length') && item('policy.max_length').getAttribute('data-dynamic') !== 'true') {
        setState('policy.max_length', tooLong ? 'unmet' : 'met');
      } else {
        setDynamic('policy.max_length', format(messages['policy.max_length'] || '', { max: policy.max_length }), tooLong);
      }
    }
    if (policy.max_bytes != null) {
      var tooMany = new TextEncoder().encode(pw).length > policy.max_bytes;
      setDynamic('policy.max_bytes', list.getAttribute('data-max-bytes'), tooMany);
    }
    var cc = policy.character_classes;
    if (cc && cc.classes) {
      var present = cc.classes.filter(function (name) { return CLASSES[name] && CLASSES[name].test(pw); }).length;
      setState('policy.character_classes', present >= cc.min_classes ? 'met' : 'unmet');
    }
    regexRules.forEach(function (rule) {
      setState('regex:' + rule.name, rule.re.test(pw) === rule.mustMatch ? 'met' : 'unmet');
    });
  }

  // --- the tenant's JavaScript rule, in a worker with a deadline ---
  var worker = null;
  var pending = null;
  var sequence = 0;
  var scriptCodes = [];

  function showScriptResult(keys) {
    scriptCodes.forEach(function (code) { setDynamic(code, '', false); });
    scriptCodes = [];
    setDynamic('policy.script_unavailable', '', false);
    keys.forEach(function (k) {
      var code = 'script:' + k.key;
      var text = messages[k.key] != null ? format(messages[k.key], k.params)
        : messages['policy.rule'] != null ? format(messages['policy.rule'], { rule: k.key }) : k.key;
      scriptCodes.push(code);
      setDynamic(code, text, true);
    });
  }

  function scriptUnavailable() {
    if (worker) { worker.terminate(); worker = null; }
    pending = null;
    showScriptResult([]);
    setDynamic('policy.script_unavailable', list.getAttribute('data-unavailable'), true);
    setState('policy.script_unavailable', 'unavailable');
  }

  function runScript(pw) {
    if (!policy.script || !me || !me.getAttribute('data-worker')) { return; }
    if (pending) { clearTimeout(pending.timer); }
    if (!worker) {
      try { worker = new Worker(me.getAttribute('data-worker')); }
      catch (e) { scriptUnavailable(); return; }
      worker.onmessage = function (event) {
        var reply = event.data || {};
        if (!pending || reply.id !== pending.id) { return; }
        clearTimeout(pending.timer);
        pending = null;
        if (reply.error || !Array.isArray(reply.keys)) { scriptUnavailable(); } else { showScriptResult(reply.keys); }
      };
      worker.onerror = function () { scriptUnavailable(); };
    }
    var id = ++sequence;
    pending = { id: id, timer: setTimeout(scriptUnavailable, WORKER_TIMEOUT_MS) };
    var ctx = Object.assign({ email: null, user_name: null, tenant: null, locale: document.documentElement.lang }, policy.script_context || {});
    worker.postMessage({ id: id, source: policy.script, password: pw, ctx: ctx });
  }

  // --- server-only rules (strength, blocklist, personal information, regex rules without
  // a browser pattern) through the cookie-bound live check, debounced ---
  var CHECK_DEBOUNCE_MS = 300;
  var checkUrl = (form.getAttribute('action') || '/reset/confirm') + '/check';
  var serverItems = Array.prototype.slice.call(list.querySelectorAll('li[data-state="server"]'));
  var checkSequence = 0;

  // A broken server rule shows what the server found ("Contains the name of this service",
  // "Too easy to guess: fair, it needs to be strong"); a met one its rule text again.
  function showServerState(li, state, found) {
    var textEl = li.querySelector('.pg-rule-text');
    if (textEl && !li.hasAttribute('data-text')) { li.setAttribute('data-text', textEl.textContent); }
    if (textEl) { textEl.textContent = state === 'unmet' && found ? found : li.getAttribute('data-text'); }
    li.setAttribute('data-state', state);
    var note = li.querySelector('.pg-rule-note');
    if (note) { note.hidden = state !== 'server'; }
    var label = li.querySelector('.pg-rule-state');
    var word = state === 'met' ? list.getAttribute('data-met')
      : state === 'unmet' ? list.getAttribute('data-unmet') : '';
    if (label) { label.textContent = word ? ' (' + word + ')' : ''; }
  }

  function runCheck(pw) {
    if (!serverItems.length || !window.fetch) { return; }
    var id = ++checkSequence;
    if (pw === '') { serverItems.forEach(function (li) { showServerState(li, 'server'); }); return; }
    fetch(checkUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ password: pw })
    }).then(function (response) {
      if (!response.ok) { throw new Error('check ' + response.status); }
      return response.json();
    }).then(function (answer) {
      if (id !== checkSequence || !answer || !Array.isArray(answer.violations)) { return; }
      var broken = {};
      answer.violations.forEach(function (v) {
        var message = typeof v.message === 'string' ? v.message : '';
        broken[v.code] = message || true; broken[v.message_key] = message || true;
      });
      serverItems.forEach(function (li) {
        var found = broken[li.getAttribute('data-rule')];
        showServerState(li, found ? 'unmet' : 'met', typeof found === 'string' ? found : null);
      });
    }).catch(function () {
      // Unavailable or limited: the rules stay "checked when you submit".
      if (id === checkSequence) { serverItems.forEach(function (li) { showServerState(li, 'server'); }); }
    });
  }

  var debounce = null;
  var checkDebounce = null;
  password.addEventListener('input', function () {
    updateConfirmation();
    var pw = password.value;
    checkLocal(pw);
    clearTimeout(debounce);
    debounce = setTimeout(function () { runScript(password.value); }, DEBOUNCE_MS);
    clearTimeout(checkDebounce);
    checkDebounce = setTimeout(function () { runCheck(password.value); }, CHECK_DEBOUNCE_MS);
  });
  checkLocal(password.value);
}());
