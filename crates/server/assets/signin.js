// Sign-in and sign-up forms, and the DingTalk buttons (also used by /dingtalk/auto).
(function () {
  'use strict';
  var AG = window.AG;

  function formError(form, text) { AG.show(form.querySelector('.form-error'), text); }

  function signIn(authenticator, account, password) {
    return AG.api('POST', '/api/auth:signIn', { account: account, password: password }, { 'X-Authenticator': authenticator });
  }

  function signInError(r) {
    // The server's own words: when to try again, in minutes, in the reader's language.
    if (r.status === 429) return r.message;
    if (r.status === 401) return AG.t('signin.wrong');
    return r.message;
  }

  Array.prototype.forEach.call(document.querySelectorAll('.pw-form'), function (form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var account = form.elements.account.value.trim();
      var password = form.elements.password.value;
      if (!account || !password) { formError(form, AG.t('signin.missing')); return; }
      var button = form.querySelector('button[type=submit]');
      button.disabled = true;
      AG.hide(form.querySelector('.form-error'));
      signIn(form.getAttribute('data-authenticator'), account, password).then(function (r) {
        button.disabled = false;
        if (r.ok) { location.assign(AG.redirectTarget()); return; }
        formError(form, signInError(r));
      });
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll('.signup-form'), function (form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var body = {};
      Array.prototype.forEach.call(form.querySelectorAll('input'), function (i) {
        if (i.value !== '') body[i.name] = i.name.indexOf('assword') >= 0 ? i.value : i.value.trim();
      });
      if (body.password !== body.confirmPassword) { formError(form, AG.t('signup.mismatch')); return; }
      var name = form.getAttribute('data-authenticator');
      AG.hide(form.querySelector('.form-error'));
      AG.api('POST', '/api/auth:signUp', body, { 'X-Authenticator': name }).then(function (r) {
        if (!r.ok) { formError(form, r.message); return null; }
        var account = body.username || body.email;
        if (!account) { location.assign('/signin?redirect=' + encodeURIComponent(AG.redirectTarget())); return null; }
        return signIn(name, account, body.password).then(function (s) {
          location.assign(s.ok ? AG.redirectTarget() : '/signin?redirect=' + encodeURIComponent(AG.redirectTarget()));
        });
      });
    });
  });

  function ssoError(name, text) {
    var target = null;
    Array.prototype.forEach.call(document.querySelectorAll('[data-error-for]'), function (e) {
      if (e.getAttribute('data-error-for') === name) target = e;
    });
    AG.show(target, text);
  }

  Array.prototype.forEach.call(document.querySelectorAll('.sso-button'), function (button) {
    button.addEventListener('click', function () {
      var name = button.getAttribute('data-authenticator');
      button.disabled = true;
      AG.api('POST', '/api/dingtalk:getAuthUrl', { redirect: AG.redirectTarget() }, { 'X-Authenticator': name }).then(function (r) {
        if (r.ok && r.data && typeof r.data.url === 'string' && /^https?:\/\//.test(r.data.url)) {
          button.textContent = AG.t('signin.going');
          location.assign(r.data.url);
          return;
        }
        button.disabled = false;
        ssoError(name, r.ok ? AG.t('common.error', { m: 'no URL' }) : r.message);
      });
    });
  });
})();
