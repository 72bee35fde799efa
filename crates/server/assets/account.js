// The account page: my sessions (with revoke), the applications I let sign me in (with
// remove access), change password, sign out.
(function () {
  'use strict';
  var AG = window.AG;
  var el = AG.el;
  var errorBox = document.getElementById('sessions-error');

  function loadSessions() {
    AG.api('GET', '/api/auth:sessions').then(function (r) {
      if (r.status === 401) { location.assign('/signin?redirect=%2F'); return; }
      if (!r.ok) { AG.show(errorBox, r.message); return; }
      var tbody = document.querySelector('#my-sessions tbody');
      tbody.textContent = '';
      if (!r.data.length) {
        tbody.appendChild(el('tr', {}, [el('td', { colSpan: 5, className: 'empty' }, [AG.t('session.none')])]));
      }
      r.data.forEach(function (s) {
        var action = s.current
          ? el('span', { className: 'muted' }, [AG.t('account.this_device')])
          : el('button', { type: 'button', className: 'revoke', onclick: function () { revoke(s.id); } }, [AG.t('session.revoke')]);
        // Each cell names its column: a narrow screen shows the row as a card.
        var td = function (key, value, cls, title) {
          var attrs = { 'data-label': AG.t(key) };
          if (title) attrs.title = title;
          return el('td', { className: cls || '', attrs: attrs }, [value]);
        };
        tbody.appendChild(el('tr', { dataset: { session: s.id } }, [
          td('session.signed_in', AG.time(s.signedInAt)),
          td('session.authenticator', s.authenticator || ''),
          td('session.ip', s.ip || ''),
          td('session.device', s.device || '', 'ua', s.userAgent),
          td('common.actions', action, 'actions')
        ]));
      });
    });
  }

  function revoke(id) {
    AG.api('POST', '/api/auth:revokeSession?filterByTk=' + encodeURIComponent(id)).then(function (r) {
      if (!r.ok) { AG.show(errorBox, r.message); return; }
      loadSessions();
    });
  }

  document.getElementById('signout').addEventListener('click', function () {
    AG.api('POST', '/api/auth:signOut').then(function () { location.assign('/signin'); });
  });

  var form = document.getElementById('change-password');
  if (form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var err = form.querySelector('.form-error');
      var ok = form.querySelector('.form-ok');
      AG.hide(err); AG.hide(ok);
      var body = {
        oldPassword: form.elements.oldPassword.value,
        newPassword: form.elements.newPassword.value,
        confirmPassword: form.elements.confirmPassword.value
      };
      if (body.newPassword !== body.confirmPassword) { AG.show(err, AG.t('signup.mismatch')); return; }
      AG.api('POST', '/api/auth:changePassword', body).then(function (r) {
        if (!r.ok) { AG.show(err, r.message); return; }
        form.reset();
        AG.show(ok, AG.t('account.password_changed'));
        loadSessions();
      });
    });
  }

  // Linked accounts: link a DingTalk account (a round trip through DingTalk that comes back
  // here), or unlink one after a confirmation.
  var identitiesError = document.getElementById('identities-error');
  Array.prototype.forEach.call(document.querySelectorAll('button.link-dingtalk'), function (b) {
    b.addEventListener('click', function () {
      var name = b.getAttribute('data-authenticator');
      AG.api('POST', '/api/dingtalk:getAuthUrl', { redirect: '/', link: true }, { 'X-Authenticator': name }).then(function (r) {
        // An older session signs in again first, then comes back here to link.
        if (r.code === 'SIGN_IN_AGAIN') { location.assign('/signin?redirect=%2F'); return; }
        if (!r.ok) { AG.show(identitiesError, r.message); return; }
        location.assign(r.data.url);
      });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('button.unlink'), function (b) {
    b.addEventListener('click', function () {
      if (!window.confirm(b.getAttribute('data-confirm'))) return;
      AG.api('POST', '/api/auth:unlinkIdentity?identityId=' + encodeURIComponent(b.getAttribute('data-identity'))).then(function (r) {
        if (!r.ok) { AG.show(identitiesError, r.message); return; }
        location.reload();
      });
    });
  });

  // Applications I allowed: each with what it can read, and "Remove access" after a question.
  var appsError = document.getElementById('apps-error');
  var appsNotice = document.getElementById('apps-notice');

  function scopeWords(scope) {
    return String(scope || '').split(' ').filter(function (s) { return s; }).map(function (s) {
      var key = 'scope.' + s;
      var words = AG.t(key);
      return words === key ? s : words;
    });
  }

  function loadApps() {
    AG.api('GET', '/api/auth:applications').then(function (r) {
      if (r.status === 401) { location.assign('/signin?redirect=%2F'); return; }
      if (!r.ok) { AG.show(appsError, r.message); return; }
      var list = document.getElementById('my-apps');
      list.textContent = '';
      document.getElementById('my-apps-empty').hidden = r.data.length > 0;
      r.data.forEach(function (g) {
        var remove = el('button', { type: 'button', className: 'remove-app danger', onclick: function () { removeApp(g); } }, [AG.t('account.apps_remove')]);
        list.appendChild(el('li', { className: 'app', dataset: { client: g.clientId } }, [
          el('div', { className: 'app-head' }, [
            el('span', { className: 'app-name' }, [g.clientName]),
            remove
          ]),
          el('p', { className: 'muted app-since' }, [AG.t('account.apps_since', { time: AG.time(g.grantedAt) })]),
          el('p', { className: 'app-can' }, [AG.t('account.apps_can_read')]),
          el('ul', { className: 'scopes' }, scopeWords(g.scope).map(function (w) { return el('li', {}, [w]); }))
        ]));
      });
    });
  }

  function removeApp(g) {
    if (!window.confirm(AG.t('account.apps_remove_confirm', { name: g.clientName }))) return;
    AG.hide(appsError); AG.hide(appsNotice);
    AG.api('POST', '/api/auth:removeApplication', { clientId: g.clientId }).then(function (r) {
      if (r.status === 401) { location.assign('/signin?redirect=%2F'); return; }
      if (!r.ok) { AG.show(appsError, r.message); return; }
      AG.show(appsNotice, AG.t('account.apps_removed'));
      loadApps();
    });
  }

  loadSessions();
  loadApps();
})();
