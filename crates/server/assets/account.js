// The account page: my sessions (with revoke), change password, sign out.
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
        tbody.appendChild(el('tr', { dataset: { session: s.id } }, [
          el('td', {}, [AG.time(s.signedInAt)]),
          el('td', {}, [s.authenticator || '']),
          el('td', {}, [s.ip || '']),
          el('td', { className: 'ua' }, [s.userAgent || '']),
          el('td', {}, [action])
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

  loadSessions();
})();
