// The admin console's Access rules section (forward auth): the rules in the order they are
// tried; add, edit, delete and move them; and "Test a URL": which rule decides a request for a
// person typed in, and why. Everything goes through the JSON API; values become text only.
(function () {
  'use strict';
  var AG = window.AG;
  var el = AG.el;
  var t = AG.t;
  var errorBox = document.getElementById('admin-error');
  var noticeBox = document.getElementById('admin-notice');
  var form = document.getElementById('rule-form');
  var allowBox = document.getElementById('rule-allow');
  var authChecks = document.getElementById('rule-authenticators');
  var testForm = document.getElementById('rule-test');
  var result = document.getElementById('rule-result');
  var rules = []; // as listed: in the order they are tried
  var authenticators = []; // for the "signed in with" choices
  var editing = null; // the rule in the form (null: a new one)
  var decidedBy = null; // the rule the shown test result names

  function problem(text) { AG.hide(noticeBox); AG.show(errorBox, text); }
  function notice(text) { AG.hide(errorBox); AG.show(noticeBox, text); }
  function clearMessages() { AG.hide(errorBox); AG.hide(noticeBox); }
  function known(key) { return t(key) !== key; }
  function guard(r) {
    if (r.status === 401) { location.assign('/signin?redirect=%2Fadmin'); return false; }
    if (!r.ok) { problem(r.message); return false; }
    return true;
  }
  function button(label, onclick, cls) { return el('button', { type: 'button', className: cls || '', onclick: onclick }, [label]); }
  // A cell that names its column (narrow screens show a row as a card of labelled lines).
  function td(label, children, cls) {
    return el('td', { className: cls || '', attrs: { 'data-label': label } }, children);
  }
  function muted(text) { return el('span', { className: 'muted' }, [text]); }
  function checkedValues(root, selector) {
    return Array.prototype.filter.call(root.querySelectorAll(selector), function (b) { return b.checked; })
      .map(function (b) { return b.value; });
  }

  // ------------------------------------------------------------------ a rule in words
  function kind(r) { return r.deny ? 'deny' : r.public ? 'public' : 'allow'; }

  // What the rule covers, as the server's reasons write it.
  function scope(r) {
    var s = r.host + (r.pathPrefix || '');
    if (r.methods && r.methods.length) s += ' (' + r.methods.join(', ') + ')';
    return s;
  }

  function whatText(r) {
    if (r.deny) return t('rules.denied');
    if (r.public) return t('rules.public');
    var a = r.allow || {};
    var parts = [];
    if (a.signedIn) parts.push(t('rules.signed_in'));
    if (a.admins) parts.push(t('rules.admins'));
    if (a.users && a.users.length) parts.push(t('rules.users', { list: a.users.join(', ') }));
    if (a.authenticators && a.authenticators.length) parts.push(t('rules.authenticators', { list: a.authenticators.join(', ') }));
    return parts.join(t('rules.or'));
  }

  // ------------------------------------------------------------------ the list
  function loadRules() {
    return AG.api('GET', '/api/accessRules:list').then(function (r) {
      if (!guard(r)) return;
      rules = r.data;
      render();
    });
  }

  function render() {
    var tbody = document.querySelector('#rule-table tbody');
    tbody.textContent = '';
    if (!rules.length) {
      tbody.appendChild(el('tr', {}, [el('td', { colSpan: 7, className: 'empty' }, [t('rules.none')])]));
    }
    rules.forEach(function (r, i) {
      var n = { n: r.position };
      var up = button('↑', function () { move(r, r.position - 1, 'up'); }, 'icon up');
      up.disabled = i === 0;
      var down = button('↓', function () { move(r, r.position + 1, 'down'); }, 'icon down');
      down.disabled = i === rules.length - 1;
      var edit = button(t('common.edit'), function () { openForm(r); }, 'edit');
      var del = button(t('common.delete'), function () { destroy(r); }, 'danger delete');
      [[up, 'rules.up'], [down, 'rules.down'], [edit, 'rules.edit'], [del, 'rules.delete_n']].forEach(function (p) {
        p[0].setAttribute('aria-label', t(p[1], n));
        p[0].title = t(p[1], n);
      });
      tbody.appendChild(el('tr', { dataset: { rule: String(r.id) }, className: r.id === decidedBy ? 'decides' : '' }, [
        td(t('rules.rule'), [String(r.position)], 'position'),
        td(t('rules.host'), [el('code', {}, [r.host])], 'host'),
        td(t('rules.path'), [r.pathPrefix ? el('code', {}, [r.pathPrefix]) : muted(t('rules.any_path'))], 'path'),
        td(t('rules.methods'), [r.methods && r.methods.length ? r.methods.join(', ') : muted(t('rules.any_method'))], 'methods'),
        td(t('rules.what'), [whatText(r)], 'what ' + kind(r)),
        td(t('rules.note'), [r.note || ''], r.note ? 'note' : 'note blank'),
        td(t('common.actions'), [up, down, edit, del], 'actions')
      ]));
    });
    if (editing) {
      var fresh = rules.filter(function (r) { return r.id === editing.id; })[0];
      if (fresh) {
        editing = fresh;
        document.getElementById('rule-form-title').textContent = t('rules.edit', { n: fresh.position });
      }
    }
  }

  // The shown test result no longer says what the rules decide.
  function changed() {
    decidedBy = null;
    result.hidden = true;
  }

  function move(r, position, direction) {
    clearMessages();
    AG.api('POST', '/api/accessRules:move?filterByTk=' + encodeURIComponent(r.id), { position: position }).then(function (res) {
      if (!guard(res)) return;
      changed();
      notice(t('rules.moved'));
      return loadRules().then(function () {
        // Keep the keyboard where it was: on the rule that moved.
        var row = document.querySelector('#rule-table tr[data-rule="' + r.id + '"]');
        if (!row) return;
        var b = row.querySelector('button.' + direction);
        if (!b || b.disabled) b = row.querySelector('button.' + (direction === 'up' ? 'down' : 'up'));
        if (b && !b.disabled) b.focus();
      });
    });
  }

  function destroy(r) {
    if (!window.confirm(t('rules.delete_confirm', { n: r.position, scope: scope(r) }))) return;
    clearMessages();
    AG.api('POST', '/api/accessRules:destroy?filterByTk=' + encodeURIComponent(r.id)).then(function (res) {
      if (!guard(res)) return;
      if (editing && editing.id === r.id) { form.hidden = true; editing = null; }
      changed();
      notice(t('rules.deleted'));
      loadRules();
    });
  }

  // ------------------------------------------------------------------ authenticators
  function loadAuthenticators() {
    return AG.api('GET', '/api/authenticators:list').then(function (r) {
      if (!guard(r)) return;
      authenticators = r.data;
      renderAuthChecks(null);
      var select = testForm.elements.authenticator;
      var before = select.value;
      select.textContent = '';
      authenticators.forEach(function (a) {
        var label = a.title && a.title !== a.name ? a.title + ' (' + a.name + ')' : a.name;
        select.appendChild(el('option', { value: a.name }, [label]));
      });
      var enabled = authenticators.filter(function (a) { return a.enabled; })[0];
      var keep = authenticators.some(function (a) { return a.name === before; });
      select.value = keep ? before : enabled ? enabled.name : (authenticators[0] ? authenticators[0].name : '');
    });
  }

  // One checkbox per authenticator, and for names a rule lists that no longer exist (so that
  // saving the rule keeps them). `chosen`: the names to tick (null: keep what is ticked).
  function renderAuthChecks(chosen) {
    var ticked = chosen || checkedValues(authChecks, 'input');
    var names = authenticators.map(function (a) { return a.name; });
    ticked.forEach(function (n) { if (names.indexOf(n) < 0) names.push(n); });
    authChecks.textContent = '';
    names.forEach(function (name) {
      var a = authenticators.filter(function (x) { return x.name === name; })[0];
      var box = el('input', { type: 'checkbox', name: 'authenticator', value: name, checked: ticked.indexOf(name) >= 0 });
      var title = a && a.title && a.title !== name ? el('span', { className: 'muted' }, [a.title]) : null;
      authChecks.appendChild(el('label', { className: 'check' }, [box, ' ', el('code', {}, [name]), title ? ' ' : null, title]));
    });
  }

  // ------------------------------------------------------------------ the form
  function action() {
    var on = form.querySelector('input[name=action]:checked');
    return on ? on.value : 'allow';
  }
  function syncAction() { allowBox.hidden = action() !== 'allow'; }

  function clearInvalid() {
    Array.prototype.forEach.call(form.querySelectorAll('[aria-invalid]'), function (i) { i.removeAttribute('aria-invalid'); });
  }

  function openForm(rule) {
    clearMessages();
    clearInvalid();
    editing = rule;
    AG.hide(form.querySelector('.form-error'));
    document.getElementById('rule-form-title').textContent = rule ? t('rules.edit', { n: rule.position }) : t('rules.new');
    var f = form.elements;
    f.host.value = rule ? rule.host : '';
    f.pathPrefix.value = rule && rule.pathPrefix ? rule.pathPrefix : '';
    var methods = rule && rule.methods ? rule.methods : [];
    Array.prototype.forEach.call(form.querySelectorAll('#rule-methods input'), function (b) {
      b.checked = methods.indexOf(b.value) >= 0;
    });
    var k = rule ? kind(rule) : 'allow';
    Array.prototype.forEach.call(form.querySelectorAll('input[name=action]'), function (b) { b.checked = b.value === k; });
    var a = rule && rule.allow ? rule.allow : {};
    f.signedIn.checked = !!a.signedIn;
    f.admins.checked = !!a.admins;
    f.users.value = (a.users || []).join(', ');
    renderAuthChecks(a.authenticators || []);
    f.note.value = rule && rule.note ? rule.note : '';
    syncAction();
    form.hidden = false;
    form.scrollIntoView({ block: 'start' });
    f.host.focus({ preventScroll: true });
  }

  Array.prototype.forEach.call(form.querySelectorAll('input[name=action]'), function (b) {
    b.addEventListener('change', syncAction);
  });

  // The field a message of the API names ("host: must be ..."), to mark it.
  var FIELD_INPUTS = { host: 'host', pathPrefix: 'pathPrefix', note: 'note' };

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var err = form.querySelector('.form-error');
    AG.hide(err);
    clearInvalid();
    var f = form.elements;
    var body = { host: f.host.value.trim() };
    var path = f.pathPrefix.value.trim();
    if (path) body.pathPrefix = path;
    var methods = checkedValues(form, '#rule-methods input');
    if (methods.length) body.methods = methods;
    var what = action();
    if (what === 'allow') {
      var allow = {};
      if (f.signedIn.checked) allow.signedIn = true;
      if (f.admins.checked) allow.admins = true;
      var users = f.users.value.split(/[,，、;；\s]+/).filter(function (u) { return u !== ''; });
      if (users.length) allow.users = users;
      var auths = checkedValues(authChecks, 'input');
      if (auths.length) allow.authenticators = auths;
      body.allow = allow;
    } else {
      body[what] = true;
    }
    var note = f.note.value.trim();
    if (note) body.note = note;
    var creating = !editing;
    var call = editing
      ? AG.api('POST', '/api/accessRules:update?filterByTk=' + encodeURIComponent(editing.id), body)
      : AG.api('POST', '/api/accessRules:create', body);
    call.then(function (r) {
      if (r.status === 401) { location.assign('/signin?redirect=%2Fadmin'); return; }
      if (!r.ok) {
        AG.show(err, r.message);
        var field = /^(\w+):/.exec(r.message);
        var input = field && FIELD_INPUTS[field[1]] ? f[FIELD_INPUTS[field[1]]] : null;
        if (input) input.setAttribute('aria-invalid', 'true');
        return;
      }
      form.hidden = true;
      editing = null;
      changed();
      notice(creating ? t('rules.created') : t('common.saved'));
      loadRules();
    });
  });

  form.querySelector('.cancel').addEventListener('click', function () {
    form.hidden = true;
    editing = null;
    clearInvalid();
  });

  document.getElementById('rule-new').addEventListener('click', function () { openForm(null); });

  // ------------------------------------------------------------------ test a URL
  function markDecider() {
    Array.prototype.forEach.call(document.querySelectorAll('#rule-table tbody tr[data-rule]'), function (tr) {
      tr.className = tr.getAttribute('data-rule') === String(decidedBy) ? 'decides' : '';
    });
  }

  function showResult(d) {
    var verdict = document.getElementById('rule-verdict');
    verdict.textContent = known('rules.verdict_' + d.verdict) ? t('rules.verdict_' + d.verdict) : d.verdict;
    verdict.className = 'verdict ' + d.verdict;
    verdict.setAttribute('data-verdict', d.verdict);
    var rule = d.ruleId ? rules.filter(function (r) { return r.id === d.ruleId; })[0] : null;
    var decider = document.getElementById('rule-decider');
    decider.textContent = rule ? t('rules.decided_by', { n: rule.position, scope: scope(rule) }) : d.ruleId ? '' : t('rules.no_rule');
    var reason = document.getElementById('rule-reason');
    // In the page's language: the server answers in it.
    reason.textContent = d.reason;
    decidedBy = d.ruleId || null;
    markDecider();
    result.hidden = false;
  }

  testForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var err = testForm.querySelector('.form-error');
    AG.hide(err);
    var f = testForm.elements;
    var url = f.url.value.trim();
    if (!url) { changed(); markDecider(); AG.show(err, t('rules.test_url_required')); f.url.focus(); return; }
    // "wiki.corp.example/x" means https://wiki.corp.example/x (shown as tested).
    if (!/^[a-z][a-z0-9+.\-]*:\/\//i.test(url)) { url = 'https://' + url; f.url.value = url; }
    var q = '?url=' + encodeURIComponent(url) + '&method=' + encodeURIComponent(f.method.value);
    var user = f.user.value.trim();
    if (user) {
      q += '&user=' + encodeURIComponent(user);
      if (f.authenticator.value) q += '&authenticator=' + encodeURIComponent(f.authenticator.value);
    }
    AG.api('GET', '/api/accessRules:explain' + q).then(function (r) {
      if (r.status === 401) { location.assign('/signin?redirect=%2Fadmin'); return; }
      if (!r.ok) { changed(); markDecider(); AG.show(err, r.message); return; }
      showResult(r.data);
    });
  });

  // ------------------------------------------------------------------ start
  document.addEventListener('ag:tab', function (ev) {
    if (ev.detail !== 'sec-rules') return;
    loadAuthenticators();
    loadRules();
  });
})();
