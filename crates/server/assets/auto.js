// Login-free sign-in inside the DingTalk client: dd.requestAuthCode -> signInInClient.
// Outside DingTalk the normal DingTalk button (signin.js) is shown instead.
(function () {
  'use strict';
  var AG = window.AG;
  var root = document.getElementById('auto');
  var name = root.getAttribute('data-authenticator');
  if (!name) return;
  var status = document.getElementById('auto-status');
  var retry = document.getElementById('auto-retry');
  var errorBox = document.querySelector('[data-error-for]');
  var dd = window.dd;

  function inDingTalk() {
    if (!/DingTalk/i.test(navigator.userAgent) || !dd) return false;
    return !(dd.env && dd.env.platform === 'notInDingTalk');
  }

  function fail(text) {
    status.textContent = '';
    AG.show(errorBox, AG.t('auto.failed', { m: text }));
    retry.hidden = false;
  }

  function requestCode() {
    return new Promise(function (resolve, reject) {
      var args = {
        corpId: root.getAttribute('data-corp-id'),
        clientId: root.getAttribute('data-client-id'),
        onSuccess: function (res) { resolve(res); },
        onFail: function (err) { reject(err); }
      };
      var p = dd.requestAuthCode(args);
      if (p && typeof p.then === 'function') p.then(resolve, reject);
    });
  }

  function start() {
    AG.hide(errorBox);
    retry.hidden = true;
    status.textContent = AG.t('auto.title');
    requestCode().then(function (res) {
      var code = res && (res.code || res.authCode);
      if (!code) { fail('no code'); return; }
      AG.api('POST', '/api/dingtalk:signInInClient', { code: code }, { 'X-Authenticator': name }).then(function (r) {
        if (r.ok) { location.replace(AG.redirectTarget()); return; }
        fail(r.message);
      });
    }, function (err) {
      fail((err && (err.errorMessage || err.message)) || JSON.stringify(err));
    });
  }

  if (!inDingTalk()) {
    document.getElementById('fallback').hidden = false;
    return;
  }
  try {
    if (typeof dd.setNavigationTitle === 'function') dd.setNavigationTitle({ title: '' });
  } catch (e) { /* not essential */ }
  retry.addEventListener('click', start);
  if (typeof dd.ready === 'function') dd.ready(start); else start();
})();
