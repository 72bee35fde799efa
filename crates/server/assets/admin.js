// The admin console: authenticators, users, sessions, token policy, audit log. Everything
// goes through the JSON API; every value is put into the page as text.
(function () {
  'use strict';
  var AG = window.AG;
  var el = AG.el;
  var t = AG.t;
  var zh = AG.lang.indexOf('zh') === 0;
  var errorBox = document.getElementById('admin-error');
  var noticeBox = document.getElementById('admin-notice');
  var loaded = {};

  function problem(text) { AG.hide(noticeBox); AG.show(errorBox, text); }
  function notice(text) { AG.hide(errorBox); AG.show(noticeBox, text); }
  function clearMessages() { AG.hide(errorBox); AG.hide(noticeBox); }
  function yesNo(b) { return b ? t('common.yes') : t('common.no'); }
  function button(label, onclick, cls) { return el('button', { type: 'button', className: cls || '', onclick: onclick }, [label]); }
  function cell(v) { return el('td', {}, [v === null || v === undefined ? '' : v]); }
  function guard(r) {
    if (r.status === 401) { location.assign('/signin?redirect=%2Fadmin'); return false; }
    if (!r.ok) { problem(r.message); return false; }
    return true;
  }

  function pager(box, meta, go) {
    box.textContent = '';
    if (!meta || meta.totalPage <= 1) return;
    var prev = button(t('common.prev'), function () { go(meta.page - 1); });
    prev.disabled = meta.page <= 1;
    var next = button(t('common.next'), function () { go(meta.page + 1); });
    next.disabled = meta.page >= meta.totalPage;
    box.appendChild(prev);
    box.appendChild(el('span', {}, [t('common.page', { p: meta.page, n: meta.totalPage })]));
    box.appendChild(next);
  }

  // ------------------------------------------------------------------ authenticators
  var types = [];
  var authenticators = [];
  var editing = null; // the authenticator being edited, or {authType} for a new one
  var authForm = document.getElementById('auth-form');

  function typeOf(name) { return types.filter(function (x) { return x.name === name; })[0]; }

  function loadTypes() {
    return AG.api('GET', '/api/authenticators:listTypes').then(function (r) {
      if (!guard(r)) return;
      types = r.data;
      var select = document.getElementById('add-type');
      select.textContent = '';
      types.forEach(function (ty) { select.appendChild(el('option', { value: ty.name }, [ty.title])); });
    });
  }

  function loadAuthenticators() {
    return AG.api('GET', '/api/authenticators:list').then(function (r) {
      if (!guard(r)) return;
      authenticators = r.data;
      var tbody = document.querySelector('#auth-table tbody');
      tbody.textContent = '';
      authenticators.forEach(function (a, i) {
        var up = button('↑', function () { move(a, authenticators[i - 1]); }, 'icon');
        up.disabled = i === 0;
        up.setAttribute('aria-label', t('auth.up'));
        var down = button('↓', function () { move(a, authenticators[i + 1]); }, 'icon');
        down.disabled = i === authenticators.length - 1;
        down.setAttribute('aria-label', t('auth.down'));
        tbody.appendChild(el('tr', { dataset: { name: a.name } }, [
          cell(a.name), cell(a.authTypeTitle || a.authType), cell(a.title || a.authTypeTitle), cell(a.description),
          el('td', { className: 'actions' }, [button(a.enabled ? t('auth.disable') : t('auth.enable'), function () { toggle(a); }, 'toggle')]),
          el('td', { className: 'nowrap actions' }, [up, down]),
          el('td', { className: 'nowrap actions' }, [
            button(t('common.edit'), function () { openAuth(a); }, 'edit'),
            button(t('common.delete'), function () { destroyAuth(a); }, 'danger')
          ])
        ]));
        tbody.lastChild.children[4].insertBefore(el('span', { className: 'state' }, [yesNo(a.enabled) + ' ']), tbody.lastChild.children[4].firstChild);
      });
    });
  }

  function toggle(a) {
    clearMessages();
    if (a.enabled && !window.confirm(t('auth.disable_confirm', { title: a.title || a.authTypeTitle }))) return;
    AG.api('POST', '/api/authenticators:update?filterByTk=' + a.id, { enabled: !a.enabled }).then(function (r) {
      if (guard(r)) loadAuthenticators();
    });
  }

  function move(a, other) {
    if (!other) return;
    clearMessages();
    AG.api('POST', '/api/authenticators:move', { sourceId: a.id, targetId: other.id }).then(function (r) {
      if (guard(r)) loadAuthenticators();
    });
  }

  function destroyAuth(a) {
    if (!window.confirm(t('common.confirm_delete', { name: a.name }))) return;
    clearMessages();
    AG.api('POST', '/api/authenticators:destroy?filterByTk=' + a.id).then(function (r) {
      if (guard(r)) loadAuthenticators();
    });
  }

  function optionField(spec, value) {
    var id = 'opt-' + spec.name;
    var label = zh && spec.titleZh ? spec.titleZh : spec.title;
    var wrap = el('div', { className: 'option', dataset: { option: spec.name, kind: spec.type } });
    var input;
    if (spec.type === 'boolean') {
      input = el('input', { type: 'checkbox', id: id, checked: value === true });
      wrap.appendChild(el('label', { className: 'check', htmlFor: id }, [input, ' ' + label]));
    } else {
      wrap.appendChild(el('label', { htmlFor: id }, [label + (spec.required ? ' *' : '')]));
      if (spec.type === 'select') {
        input = el('select', { id: id });
        spec.choices.forEach(function (c) { input.appendChild(el('option', { value: c, selected: c === value }, [c])); });
        wrap.appendChild(input);
      } else if (spec.type === 'multiSelect') {
        input = el('div', { id: id, className: 'checks' });
        var chosen = Array.isArray(value) ? value : [];
        spec.choices.forEach(function (c) {
          var box = el('input', { type: 'checkbox', value: c, checked: chosen.indexOf(c) >= 0 });
          input.appendChild(el('label', { className: 'check' }, [box, ' ' + c]));
        });
        wrap.appendChild(input);
        if (spec.choices.indexOf('email') >= 0) {
          var warning = el('p', { className: 'warning', attrs: { role: 'note' } }, [t('auth.email_warning')]);
          var sync = function () { warning.hidden = !input.querySelector('input[value=email]').checked; };
          input.addEventListener('change', sync);
          wrap.appendChild(warning);
          sync();
        }
      } else if (spec.type === 'json') {
        input = el('textarea', { id: id, rows: 3, value: value === undefined ? JSON.stringify(spec.default) : JSON.stringify(value) });
        wrap.appendChild(input);
      } else if (spec.type === 'secret') {
        input = el('input', { id: id, type: 'password', autocomplete: 'new-password', placeholder: typeof value === 'string' && value ? value + ' — ' + t('auth.secret_keep') : '' });
        wrap.appendChild(input);
      } else {
        input = el('input', { id: id, type: spec.type === 'url' ? 'url' : 'text', value: value === undefined || value === null ? '' : String(value) });
        wrap.appendChild(input);
      }
    }
    var help = zh && spec.descriptionZh ? spec.descriptionZh : spec.description;
    if (help) wrap.appendChild(el('p', { className: 'help' }, [help]));
    return wrap;
  }

  function openAuth(a) {
    clearMessages();
    editing = a;
    var type = typeOf(a.authType);
    var isNew = !a.id;
    document.getElementById('auth-form-title').textContent = (isNew ? t('common.add') : t('common.edit')) + ' · ' + (type ? type.title : a.authType);
    authForm.elements.name.value = a.name || '';
    authForm.elements.name.disabled = !isNew;
    authForm.elements.title.value = a.title || '';
    authForm.elements.description.value = a.description || '';
    authForm.elements.enabled.checked = isNew ? true : !!a.enabled;
    var box = document.getElementById('auth-options');
    box.textContent = '';
    var options = a.options || {};
    (type ? type.options : []).forEach(function (spec) {
      box.appendChild(optionField(spec, isNew ? spec.default : options[spec.name]));
    });
    var extras = document.getElementById('dingtalk-extras');
    extras.hidden = a.authType !== 'dingtalk';
    document.getElementById('redirect-url').value = options.redirectUrl || '';
    document.getElementById('auto-url').value = options.autoLoginUrl || '';
    document.getElementById('redirect-help').textContent = options.redirectUrl ? t('auth.redirect_help') : t('auth.save_first');
    AG.hide(document.getElementById('test-result'));
    AG.hide(authForm.querySelector('.form-error'));
    authForm.hidden = false;
    authForm.scrollIntoView({ block: 'start' });
  }

  function readOptions() {
    var out = {};
    var bad = null;
    Array.prototype.forEach.call(document.querySelectorAll('#auth-options .option'), function (w) {
      var name = w.getAttribute('data-option');
      var kind = w.getAttribute('data-kind');
      var input = document.getElementById('opt-' + name);
      if (kind === 'boolean') out[name] = input.checked;
      else if (kind === 'multiSelect') {
        out[name] = Array.prototype.map.call(input.querySelectorAll('input:checked'), function (c) { return c.value; });
      } else if (kind === 'json') {
        try { out[name] = input.value.trim() ? JSON.parse(input.value) : null; } catch (e) { bad = bad || t('auth.json_invalid', { name: name }); }
      } else if (kind === 'secret') {
        if (input.value !== '') out[name] = input.value;
      } else out[name] = input.value;
    });
    return { options: out, error: bad };
  }

  authForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var err = authForm.querySelector('.form-error');
    AG.hide(err);
    var read = readOptions();
    if (read.error) { AG.show(err, read.error); return; }
    var body = {
      title: authForm.elements.title.value,
      description: authForm.elements.description.value,
      enabled: authForm.elements.enabled.checked,
      options: read.options
    };
    // A DingTalk authenticator about to appear on the sign-in page is tried first: one that
    // DingTalk refuses is saved, but left off the sign-in page until it works.
    var goesLive = editing.authType === 'dingtalk' && body.enabled && !(editing.id && editing.enabled);
    var tried = goesLive ? testConnection() : Promise.resolve({ ok: true });
    tried.then(function (test) {
      if (!test.ok) body.enabled = false;
      var call;
      if (editing.id) {
        call = AG.api('POST', '/api/authenticators:update?filterByTk=' + editing.id, body);
      } else {
        body.name = authForm.elements.name.value.trim();
        body.authType = editing.authType;
        call = AG.api('POST', '/api/authenticators:create', body);
      }
      call.then(function (r) {
        if (!r.ok) { AG.show(err, r.message); return; }
        loadAuthenticators();
        // Stay in the form: a new DingTalk authenticator now has its Redirect URL to copy.
        openAuth(r.data);
        if (test.ok) { notice(t('common.saved')); return; }
        problem(t('auth.kept_disabled', { m: test.text }));
      });
    });
  });
  authForm.querySelector('.cancel').addEventListener('click', function () { authForm.hidden = true; editing = null; });

  document.getElementById('add-auth').addEventListener('click', function () {
    openAuth({ authType: document.getElementById('add-type').value });
  });

  Array.prototype.forEach.call(document.querySelectorAll('#auth-form button.copy'), function (b) {
    b.addEventListener('click', function () {
      var input = document.getElementById(b.getAttribute('data-copy'));
      var done = function () {
        b.textContent = t('common.copied');
        setTimeout(function () { b.textContent = t('common.copy'); }, 2000);
      };
      input.select();
      var copied = false;
      try { copied = document.execCommand('copy'); } catch (e) { copied = false; }
      if (copied || !(navigator.clipboard && navigator.clipboard.writeText)) { done(); return; }
      navigator.clipboard.writeText(input.value).then(done, function () { /* nothing copied: the URL stays selected */ });
    });
  });

  // Asks DingTalk whether the form's Client ID and Secret (or the stored secret) work;
  // resolves to {ok, text}.
  function testConnection() {
    var read = readOptions().options;
    var body = { clientId: read.clientId || '' };
    if (read.clientSecret) body.clientSecret = read.clientSecret;
    if (editing && editing.id) body.authenticator = editing.name;
    return AG.api('POST', '/api/dingtalk:testConnection', body).then(function (r) {
      if (!r.ok) return { ok: false, text: r.message };
      if (r.data.ok) return { ok: true, text: t('auth.test_ok') };
      var parts = [r.data.message || r.data.detail || ''];
      if (r.data.code) parts.push('(' + r.data.code + ')');
      if (r.data.hint) parts.push('— ' + r.data.hint);
      if (r.data.requestid) parts.push('[requestid ' + r.data.requestid + ']');
      return { ok: false, text: t('auth.test_fail', { m: parts.join(' ') }) };
    });
  }

  document.getElementById('test-connection').addEventListener('click', function () {
    var result = document.getElementById('test-result');
    result.className = '';
    AG.show(result, t('common.loading'));
    testConnection().then(function (test) {
      result.className = test.ok ? 'notice' : 'alert';
      AG.show(result, test.text);
    });
  });

  // ------------------------------------------------------------------ users
  var userForm = document.getElementById('user-form');
  var userQuery = '';
  var editingUser = null;

  function loadUsers(page) {
    var qs = '?pageSize=20&page=' + (page || 1) + (userQuery ? '&q=' + encodeURIComponent(userQuery) : '');
    AG.api('GET', '/api/users:list' + qs).then(function (r) {
      if (!guard(r)) return;
      var tbody = document.querySelector('#user-table tbody');
      tbody.textContent = '';
      r.data.forEach(function (u) {
        tbody.appendChild(el('tr', { dataset: { user: String(u.id) } }, [
          cell(u.id), el('td', { className: 'nickname' }, [u.nickname || '']), cell(u.username), cell(u.email), cell(u.phone),
          cell(yesNo(u.isAdmin)), cell(yesNo(u.enabled)),
          el('td', { className: 'nowrap actions' }, [button(t('common.edit'), function () { openUser(u.id); }, 'edit')])
        ]));
      });
      pager(document.getElementById('user-pager'), r.meta, loadUsers);
    });
  }

  // The applications a user allowed (admin_apps.js fills the box; hidden without a user).
  function userGrants(box, userId) {
    document.dispatchEvent(new CustomEvent('ag:user-grants', { detail: { box: box, userId: userId } }));
  }

  function openUser(id) {
    clearMessages();
    AG.hide(userForm.querySelector('.form-error'));
    userForm.reset();
    var identitiesBox = document.getElementById('user-identities-box');
    userGrants('user-grants-box', id);
    if (!id) {
      editingUser = null;
      document.getElementById('user-form-title').textContent = t('users.create');
      identitiesBox.hidden = true;
      document.getElementById('user-sessions-link').hidden = true;
      userForm.hidden = false;
      return;
    }
    AG.api('GET', '/api/users:get?filterByTk=' + id).then(function (r) {
      if (!guard(r)) return;
      var u = r.data;
      editingUser = u;
      document.getElementById('user-form-title').textContent = t('users.edit') + ' #' + u.id;
      ['nickname', 'username', 'email', 'phone'].forEach(function (k) { userForm.elements[k].value = u[k] || ''; });
      userForm.elements.isAdmin.checked = !!u.isAdmin;
      userForm.elements.enabled.checked = !!u.enabled;
      var list = document.getElementById('user-identities');
      list.textContent = '';
      (u.identities || []).forEach(function (i) {
        var via = authenticatorTitle(i.authenticator);
        list.appendChild(el('li', { className: 'identity' }, [
          el('span', {}, [(i.nickname ? i.nickname + ' · ' : '') + via + ' · ' + i.uuid + ' ']),
          button(t('users.unlink'), function () {
            var who = u.nickname || u.username || ('#' + u.id);
            if (window.confirm(t('users.unlink_confirm', { name: who, what: via }))) unlink(u.id, i.id);
          }, 'danger')
        ]));
      });
      identitiesBox.hidden = !(u.identities || []).length;
      document.getElementById('user-sessions-link').hidden = false;
      userForm.hidden = false;
      userForm.scrollIntoView({ block: 'start' });
    });
  }

  // An authenticator as people know it: its title, else its type's name (not its internal name).
  function authenticatorTitle(name) {
    var a = authenticators.filter(function (x) { return x.name === name; })[0];
    return a ? (a.title || a.authTypeTitle || a.name) : name;
  }

  function unlink(userId, identityId) {
    AG.api('POST', '/api/users:unlinkIdentity?filterByTk=' + userId + '&identityId=' + identityId).then(function (r) {
      if (guard(r)) openUser(userId);
    });
  }

  userForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var err = userForm.querySelector('.form-error');
    AG.hide(err);
    var body = {};
    ['nickname', 'username', 'email', 'phone'].forEach(function (k) {
      var v = userForm.elements[k].value.trim();
      if (editingUser || v) body[k] = v || null;
    });
    if (userForm.elements.password.value) body.password = userForm.elements.password.value;
    body.isAdmin = userForm.elements.isAdmin.checked;
    body.enabled = userForm.elements.enabled.checked;
    var call = editingUser
      ? AG.api('POST', '/api/users:update?filterByTk=' + editingUser.id, body)
      : AG.api('POST', '/api/users:create', body);
    call.then(function (r) {
      if (!r.ok) { AG.show(err, r.message); return; }
      userForm.hidden = true;
      notice(t('common.saved'));
      loadUsers(1);
    });
  });
  userForm.querySelector('.cancel').addEventListener('click', function () { userForm.hidden = true; });
  document.getElementById('user-new').addEventListener('click', function () { openUser(null); });
  document.getElementById('user-search').addEventListener('submit', function (ev) {
    ev.preventDefault();
    userQuery = this.elements.q.value.trim();
    loadUsers(1);
  });
  document.getElementById('user-sessions-link').addEventListener('click', function () {
    var f = document.getElementById('session-filter');
    f.elements.user.value = editingUser.username || ('#' + editingUser.id);
    document.querySelector('[data-panel=sec-sessions]').click();
  });

  // ------------------------------------------------------------------ sessions
  // The person typed into the filter (a name, username, e-mail or id), and once the server
  // found them, their id and name.
  var sessionUser = '';
  var sessionPerson = null;

  function personName(s) {
    if (s.nickname && s.username && s.nickname !== s.username) return s.nickname + ' (' + s.username + ')';
    return s.nickname || s.username || ('#' + s.userId);
  }

  function loadSessions(page) {
    var qs = '?pageSize=20&page=' + (page || 1) + (sessionUser ? '&user=' + encodeURIComponent(sessionUser) : '');
    sessionPerson = null;
    document.getElementById('revoke-user').hidden = true;
    userGrants('session-grants-box', null);
    AG.api('GET', '/api/sessions:list' + qs).then(function (r) {
      if (!guard(r)) return;
      var tbody = document.querySelector('#session-table tbody');
      tbody.textContent = '';
      if (!r.data.length) tbody.appendChild(el('tr', {}, [el('td', { colSpan: 7, className: 'empty' }, [t('session.none')])]));
      if (sessionUser && r.data.length) {
        sessionPerson = { id: r.data[0].userId, name: personName(r.data[0]) };
        document.getElementById('revoke-user').hidden = false;
        userGrants('session-grants-box', sessionPerson.id);
      }
      r.data.forEach(function (s) {
        tbody.appendChild(el('tr', { dataset: { session: s.id } }, [
          cell(personName(s)), cell(s.authenticator), cell(AG.time(s.signedInAt)), cell(AG.time(s.lastRenewedAt)), cell(s.ip),
          el('td', { className: 'ua', attrs: { title: s.userAgent || '' } }, [s.device || '']),
          el('td', { className: 'actions' }, [s.current ? el('span', { className: 'muted' }, [t('account.this_device')])
            : button(t('session.revoke'), function () { revokeSession(s.id); }, 'revoke')])
        ]));
      });
      pager(document.getElementById('session-pager'), r.meta, loadSessions);
    });
  }

  function revokeSession(id) {
    AG.api('POST', '/api/sessions:revoke?filterByTk=' + encodeURIComponent(id)).then(function (r) {
      if (guard(r)) loadSessions(1);
    });
  }

  document.getElementById('session-filter').addEventListener('submit', function (ev) {
    ev.preventDefault();
    sessionUser = this.elements.user.value.trim();
    loadSessions(1);
  });
  document.getElementById('revoke-user').addEventListener('click', function () {
    if (!sessionPerson) return;
    if (!window.confirm(t('session.revoke_all_confirm', { name: sessionPerson.name }))) return;
    AG.api('POST', '/api/sessions:revokeUser?userId=' + sessionPerson.id).then(function (r) {
      if (guard(r)) { notice(t('common.saved')); loadSessions(1); }
    });
  });

  // ------------------------------------------------------------------ token policy
  var policyForm = document.getElementById('policy-form');
  var FIELDS = ['tokenExpirationTime', 'sessionExpirationTime', 'expiredTokenRenewLimit'];
  var UNIT_MS = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000, w: 604800000 };
  var FORM_UNITS = ['w', 'd', 'h', 'm'];

  // NocoBase durations ("1d", "30m", "1w", "7200s", plain milliseconds) as a number and one
  // of the form's units (the largest that fits exactly; else minutes, rounded).
  function splitDuration(text) {
    var m = /^\s*(\d+)\s*(ms|s|m|h|d|w)?\s*$/.exec(String(text));
    if (!m) return { n: '', u: 'd' };
    var ms = Number(m[1]) * UNIT_MS[m[2] || 'ms'];
    for (var i = 0; i < FORM_UNITS.length; i++) {
      var u = FORM_UNITS[i];
      if (ms > 0 && ms % UNIT_MS[u] === 0) return { n: String(ms / UNIT_MS[u]), u: u };
    }
    return { n: String(Math.max(1, Math.round(ms / UNIT_MS.m))), u: 'm' };
  }

  function loadPolicy() {
    AG.api('GET', '/api/tokenPolicies:get').then(function (r) {
      if (!guard(r)) return;
      FIELDS.forEach(function (f) {
        var d = splitDuration(r.data.config[f]);
        policyForm.elements[f].value = d.n;
        policyForm.elements[f + 'Unit'].value = d.u;
      });
    });
  }

  policyForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var err = policyForm.querySelector('.form-error');
    AG.hide(err);
    var config = {};
    var ms = {};
    FIELDS.forEach(function (f) {
      var n = policyForm.elements[f].value.trim();
      var u = policyForm.elements[f + 'Unit'].value;
      config[f] = n + u;
      ms[f] = Number(n) * UNIT_MS[u];
    });
    var bad = FIELDS.filter(function (f) { return !/^\d+$/.test(policyForm.elements[f].value.trim()) || !(ms[f] > 0); });
    if (bad.length) { AG.show(err, t('policy.number')); policyForm.elements[bad[0]].focus(); return; }
    if (!(ms.tokenExpirationTime < ms.sessionExpirationTime)) { AG.show(err, t('policy.rule')); return; }
    AG.api('POST', '/api/tokenPolicies:update', { config: config }).then(function (r) {
      if (!r.ok) { AG.show(err, r.message); return; }
      notice(t('common.saved'));
      loadPolicy();
    });
  });

  // ------------------------------------------------------------------ audit log
  var auditFilter = '';

  function detailText(e) {
    var parts = [];
    if (e.actorId != null && e.actorId !== e.userId) parts.push(t('audit.by') + ' ' + (e.actorName || '#' + e.actorId));
    if (e.reason) parts.push(e.reason);
    var d = e.detail || {};
    Object.keys(d).forEach(function (k) {
      var v = d[k];
      parts.push(k + ': ' + (typeof v === 'string' ? v : JSON.stringify(v)));
    });
    return parts.join(' · ');
  }

  function loadAudit(page) {
    AG.api('GET', '/api/auditLogs:list?pageSize=50&page=' + (page || 1) + auditFilter).then(function (r) {
      if (!guard(r)) return;
      var tbody = document.querySelector('#audit-table tbody');
      tbody.textContent = '';
      r.data.forEach(function (e) {
        tbody.appendChild(el('tr', { className: e.result === 'failure' ? 'failure' : '' }, [
          cell(AG.time(e.createdAt)), cell(e.event), cell(e.result === 'failure' ? t('audit.failure') : t('audit.success')),
          cell(e.userName || (e.userId == null ? '' : '#' + e.userId)), cell(e.authenticator), cell(e.ip), el('td', { className: 'reason' }, [detailText(e)])
        ]));
      });
      pager(document.getElementById('audit-pager'), r.meta, loadAudit);
    });
  }

  document.getElementById('audit-filter').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = this.elements;
    var q = '';
    ['user', 'event', 'result'].forEach(function (k) { if (f[k].value.trim()) q += '&' + k + '=' + encodeURIComponent(f[k].value.trim()); });
    ['since', 'until'].forEach(function (k) {
      if (f[k].value) { var d = new Date(f[k].value); if (!isNaN(d.getTime())) q += '&' + k + '=' + encodeURIComponent(d.toISOString()); }
    });
    auditFilter = q;
    loadAudit(1);
  });

  // ------------------------------------------------------------------ start
  var loaders = {
    'sec-authenticators': function () { return loadTypes().then(loadAuthenticators); },
    'sec-users': function () { loadUsers(1); },
    'sec-sessions': function () { loadSessions(1); },
    'sec-policy': loadPolicy,
    'sec-audit': function () { loadAudit(1); }
  };
  document.addEventListener('ag:tab', function (ev) {
    clearMessages();
    if (ev.detail === 'sec-sessions') { sessionUser = document.getElementById('session-filter').elements.user.value.trim(); loadSessions(1); return; }
    // Other sections (Applications: admin_apps.js) load themselves on this event.
    if (!loaders[ev.detail]) return;
    if (!loaded[ev.detail] || ev.detail !== 'sec-authenticators') { loaded[ev.detail] = true; loaders[ev.detail](); }
  });
  loaded['sec-authenticators'] = true;
  loaders['sec-authenticators']();
})();
