// The admin console's Applications section (OpenID Connect clients): list, register, edit,
// delete, rotate the secret (shown once), copy what an application needs, ready-to-paste
// configuration for common applications; and the grants people gave applications, per
// application and per user. Everything goes through the JSON API; values become text only.
(function () {
  'use strict';
  var AG = window.AG;
  var el = AG.el;
  var t = AG.t;
  var errorBox = document.getElementById('admin-error');
  var noticeBox = document.getElementById('admin-notice');
  var form = document.getElementById('app-form');
  var details = document.getElementById('app-details');
  var secretBox = document.getElementById('app-secret');
  var secretValue = document.getElementById('app-secret-value');
  var SCOPES = ['openid', 'profile', 'email', 'phone', 'dingtalk', 'offline_access'];
  var UNIT_S = { s: 1, m: 60, h: 3600, d: 86400 };
  var MAX_TTL_S = 366 * 86400;
  var SECRET = '<client secret>';
  var editing = null; // the application in the form (null: a new one)
  var shown = null; // the application in the details box
  var secretFor = null; // whose secret is on screen
  var snippet = 'grafana';
  var endpoints = null; // from the discovery document

  function problem(text) { AG.hide(noticeBox); AG.show(errorBox, text); }
  function notice(text) { AG.hide(errorBox); AG.show(noticeBox, text); }
  function clearMessages() { AG.hide(errorBox); AG.hide(noticeBox); }
  function yesNo(b) { return b ? t('common.yes') : t('common.no'); }
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
  function emptyRow(tbody, cols, text) {
    tbody.appendChild(el('tr', {}, [el('td', { colSpan: cols, className: 'empty' }, [text])]));
  }

  // ------------------------------------------------------------------ copying
  function copyLabel(b, copied) {
    var text = copied ? t('common.copied') : t('common.copy');
    b.textContent = text;
    var what = b.getAttribute('data-what');
    if (what) b.setAttribute('aria-label', what + ': ' + text);
  }

  function copy(b) {
    var target = document.getElementById(b.getAttribute('data-copy'));
    if (!target) return;
    var text = target.textContent;
    var done = function () {
      copyLabel(b, true);
      setTimeout(function () { copyLabel(b, false); }, 2000);
    };
    var copied = false;
    try {
      // Selecting the text also shows what was copied.
      var range = document.createRange();
      range.selectNodeContents(target);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      copied = document.execCommand('copy');
    } catch (e) { copied = false; }
    if (copied) { done(); return; }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { /* the text stays selected */ });
    }
  }

  function copyButton(id, what) {
    return el('button', {
      type: 'button', className: 'copy',
      dataset: { copy: id, what: what },
      attrs: { 'aria-label': what + ': ' + t('common.copy') }
    }, [t('common.copy')]);
  }

  document.getElementById('sec-apps').addEventListener('click', function (ev) {
    var b = ev.target.closest ? ev.target.closest('button.copy') : null;
    if (b) copy(b);
  });

  // ------------------------------------------------------------------ durations
  function splitSeconds(n) {
    var units = ['d', 'h', 'm', 's'];
    for (var i = 0; i < units.length; i++) {
      if (n > 0 && n % UNIT_S[units[i]] === 0) return { n: String(n / UNIT_S[units[i]]), u: units[i] };
    }
    return { n: String(n), u: 's' };
  }
  function duration(n) { var d = splitSeconds(n); return d.n + ' ' + t('unit.' + d.u + (d.n === '1' ? '1' : '')); }
  function methodLabel(m) {
    return m === 'none' ? t('apps.type_public') : m === 'client_secret_post' ? t('apps.type_post') : t('apps.type_basic');
  }
  function isPublic(app) { return app.tokenEndpointAuthMethod === 'none'; }

  // ------------------------------------------------------------------ the list
  function loadApps() {
    var discovery = endpoints ? Promise.resolve() : fetch('/.well-known/openid-configuration', { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (doc) { if (doc && doc.authorization_endpoint) endpoints = doc; }, function () { /* built from the issuer below */ });
    return Promise.all([AG.api('GET', '/api/oidcClients:list'), discovery]).then(function (all) {
      var r = all[0];
      if (!guard(r)) return;
      var tbody = document.querySelector('#app-table tbody');
      tbody.textContent = '';
      if (!r.data.length) emptyRow(tbody, 5, t('apps.none'));
      r.data.forEach(function (a) {
        tbody.appendChild(el('tr', { dataset: { client: a.clientId } }, [
          td(t('apps.name'), [a.name], 'app-name'),
          td(t('apps.client_id'), [el('code', {}, [a.clientId])]),
          td(t('apps.kind'), [isPublic(a) ? t('apps.kind_public') : t('apps.kind_confidential')]),
          td(t('field.enabled'), [yesNo(a.enabled)]),
          td(t('common.actions'), [
            button(t('apps.details'), function () { clearMessages(); showDetails(a); }, 'details'),
            button(t('common.edit'), function () { openForm(a); }, 'edit'),
            button(t('common.delete'), function () { destroy(a); }, 'danger')
          ], 'actions')
        ]));
      });
      if (shown) {
        var fresh = r.data.filter(function (a) { return a.clientId === shown.clientId; })[0];
        if (!fresh) { details.hidden = true; shown = null; }
      }
    });
  }

  // ------------------------------------------------------------------ the form
  function lines(text) {
    return text.split(/\r?\n/).map(function (l) { return l.trim(); }).filter(function (l) { return l !== ''; });
  }

  function syncForm() {
    var pub = form.elements.tokenEndpointAuthMethod.value === 'none';
    var cc = form.elements.clientCredentials;
    cc.disabled = pub;
    if (pub) cc.checked = false;
  }

  function openForm(app) {
    clearMessages();
    editing = app;
    AG.hide(form.querySelector('.form-error'));
    document.getElementById('app-form-title').textContent = app ? t('apps.edit') + ' · ' + app.name : t('apps.new');
    var f = form.elements;
    f.name.value = app ? app.name : '';
    f.redirectUris.value = app ? app.redirectUris.join('\n') : '';
    f.postLogoutRedirectUris.value = app ? app.postLogoutRedirectUris.join('\n') : '';
    var method = f.tokenEndpointAuthMethod;
    method.value = app ? app.tokenEndpointAuthMethod : 'client_secret_basic';
    // A registered application stays public or confidential.
    Array.prototype.forEach.call(method.options, function (o) {
      o.disabled = !!app && ((o.value === 'none') !== isPublic(app));
    });
    document.getElementById('app-type-locked').hidden = !app;
    var allowed = app ? app.allowedScopes : SCOPES;
    Array.prototype.forEach.call(form.querySelectorAll('#app-scopes input'), function (box) {
      box.checked = box.value === 'openid' || allowed.indexOf(box.value) >= 0;
    });
    f.idTokenSignedResponseAlg.value = app ? app.idTokenSignedResponseAlg : 'RS256';
    [['accessTokenTtlS', 3600], ['refreshTokenTtlS', 30 * 86400]].forEach(function (p) {
      var d = splitSeconds(app ? app[p[0]] : p[1]);
      f[p[0]].value = d.n;
      f[p[0] + 'Unit'].value = d.u;
    });
    ['refreshWithoutOfflineAccess', 'clientCredentials', 'thirdParty', 'adminsOnly'].forEach(function (k) {
      f[k].checked = app ? !!app[k] : false;
    });
    f.enabled.checked = app ? !!app.enabled : true;
    syncForm();
    details.hidden = true;
    form.hidden = false;
    form.scrollIntoView({ block: 'start' });
    f.name.focus();
  }

  form.elements.tokenEndpointAuthMethod.addEventListener('change', syncForm);

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var err = form.querySelector('.form-error');
    AG.hide(err);
    var f = form.elements;
    var body = {
      name: f.name.value.trim(),
      redirectUris: lines(f.redirectUris.value),
      postLogoutRedirectUris: lines(f.postLogoutRedirectUris.value),
      tokenEndpointAuthMethod: f.tokenEndpointAuthMethod.value,
      allowedScopes: Array.prototype.filter.call(form.querySelectorAll('#app-scopes input'), function (b) { return b.checked; })
        .map(function (b) { return b.value; }),
      idTokenSignedResponseAlg: f.idTokenSignedResponseAlg.value,
      refreshWithoutOfflineAccess: f.refreshWithoutOfflineAccess.checked,
      clientCredentials: f.clientCredentials.checked,
      thirdParty: f.thirdParty.checked,
      adminsOnly: f.adminsOnly.checked,
      enabled: f.enabled.checked
    };
    var bad = null;
    ['accessTokenTtlS', 'refreshTokenTtlS'].forEach(function (k) {
      var n = f[k].value.trim();
      var s = Number(n) * UNIT_S[f[k + 'Unit'].value];
      if (!/^\d+$/.test(n) || s < 60 || s > MAX_TTL_S) { bad = bad || f[k]; return; }
      body[k] = s;
    });
    if (!body.name || body.name.length > 100) { AG.show(err, t('apps.name_required')); f.name.focus(); return; }
    if (!body.redirectUris.length && !body.clientCredentials) { AG.show(err, t('apps.redirect_required')); f.redirectUris.focus(); return; }
    if (bad) { AG.show(err, t('apps.ttl_invalid')); bad.focus(); return; }
    var call = editing
      ? AG.api('POST', '/api/oidcClients:update?filterByTk=' + encodeURIComponent(editing.clientId), body)
      : AG.api('POST', '/api/oidcClients:create', body);
    var creating = !editing;
    call.then(function (r) {
      if (r.status === 401) { location.assign('/signin?redirect=%2Fadmin'); return; }
      if (!r.ok) { AG.show(err, r.message); return; }
      form.hidden = true;
      editing = null;
      loadApps();
      showDetails(r.data);
      if (creating && r.data.clientSecret) showSecret(r.data, r.data.clientSecret);
      notice(creating ? t('apps.created') : t('common.saved'));
    });
  });

  form.querySelector('.cancel').addEventListener('click', function () {
    form.hidden = true;
    var back = editing;
    editing = null;
    if (back) showDetails(back);
  });

  document.getElementById('app-new').addEventListener('click', function () { openForm(null); });

  // ------------------------------------------------------------------ the secret, once
  function showSecret(app, secret) {
    secretFor = app.clientId;
    document.getElementById('app-secret-title').textContent = t('apps.secret_title_for', { name: app.name });
    secretValue.textContent = secret;
    secretBox.hidden = false;
    secretBox.scrollIntoView({ block: 'start' });
  }
  function hideSecret() {
    secretFor = null;
    secretValue.textContent = '';
    secretBox.hidden = true;
  }
  document.getElementById('app-secret-done').addEventListener('click', hideSecret);

  // ------------------------------------------------------------------ delete, rotate
  function destroy(app) {
    if (!window.confirm(t('apps.delete_confirm', { name: app.name }))) return;
    clearMessages();
    AG.api('POST', '/api/oidcClients:destroy?filterByTk=' + encodeURIComponent(app.clientId)).then(function (r) {
      if (!guard(r)) return;
      if (shown && shown.clientId === app.clientId) { details.hidden = true; shown = null; }
      if (secretFor === app.clientId) hideSecret();
      if (editing && editing.clientId === app.clientId) { form.hidden = true; editing = null; }
      notice(t('apps.deleted'));
      loadApps();
    });
  }

  function rotate(app) {
    if (!window.confirm(t('apps.rotate_confirm', { name: app.name }))) return;
    clearMessages();
    AG.api('POST', '/api/oidcClients:rotateSecret?filterByTk=' + encodeURIComponent(app.clientId)).then(function (r) {
      if (!guard(r)) return;
      showDetails(r.data);
      showSecret(r.data, r.data.clientSecret);
      notice(t('apps.rotated'));
    });
  }

  document.getElementById('app-edit').addEventListener('click', function () { if (shown) openForm(shown); });
  document.getElementById('app-rotate').addEventListener('click', function () { if (shown) rotate(shown); });
  document.getElementById('app-delete').addEventListener('click', function () { if (shown) destroy(shown); });

  // ------------------------------------------------------------------ details
  function copyList(list, prefix, uris, what) {
    list.textContent = '';
    uris.forEach(function (u, i) {
      var id = prefix + i;
      list.appendChild(el('li', { className: 'copy-row' }, [el('code', { id: id, className: 'copyable' }, [u]), copyButton(id, what)]));
    });
    if (!uris.length) list.appendChild(el('li', { className: 'muted' }, [t('apps.none_set')]));
  }

  function showDetails(app) {
    // The view of the API, without the secret even when this answer carried one.
    var a = {};
    Object.keys(app).forEach(function (k) { if (k !== 'clientSecret') a[k] = app[k]; });
    shown = a;
    if (secretFor && secretFor !== a.clientId) hideSecret();
    document.getElementById('app-details-name').textContent = a.name;
    document.getElementById('app-issuer').textContent = a.issuer;
    document.getElementById('app-discovery').textContent = a.discoveryUrl;
    document.getElementById('app-client-id').textContent = a.clientId;
    copyList(document.getElementById('app-redirects'), 'app-redirect-', a.redirectUris, t('apps.redirect_uris_short'));
    copyList(document.getElementById('app-post-logouts'), 'app-post-logout-', a.postLogoutRedirectUris, t('apps.post_logout_uris_short'));
    document.getElementById('app-rotate').hidden = isPublic(a);
    var facts = document.getElementById('app-facts');
    facts.textContent = '';
    [
      [t('apps.type'), methodLabel(a.tokenEndpointAuthMethod)],
      [t('apps.scopes'), a.allowedScopes.join(' ')],
      [t('apps.alg'), a.idTokenSignedResponseAlg],
      [t('apps.access_ttl'), duration(a.accessTokenTtlS)],
      [t('apps.refresh_ttl'), duration(a.refreshTokenTtlS)],
      [t('apps.f_refresh_without_offline'), yesNo(a.refreshWithoutOfflineAccess)],
      [t('apps.f_client_credentials'), yesNo(a.clientCredentials)],
      [t('apps.f_third_party'), yesNo(a.thirdParty)],
      [t('apps.admins_only'), yesNo(a.adminsOnly)],
      [t('field.enabled'), yesNo(a.enabled)]
    ].forEach(function (p) {
      facts.appendChild(el('dt', {}, [p[0]]));
      facts.appendChild(el('dd', {}, [p[1]]));
    });
    renderSnippet();
    loadAppGrants(a);
    form.hidden = true;
    details.hidden = false;
  }

  // ------------------------------------------------------------------ snippets
  function endpoint(name, path) {
    return endpoints && endpoints[name] ? endpoints[name] : shown.issuer + path;
  }

  // The registered URI that is the platform's callback, else an example of one (to register).
  function redirectFor(a, suffix, example) {
    var match = a.redirectUris.filter(function (u) { return u.slice(-suffix.length) === suffix; })[0];
    return match || example;
  }

  function q(s) { return JSON.stringify(s); }

  var SNIPPETS = {
    grafana: function (a, c) {
      return [
        '[auth.generic_oauth]',
        'enabled = true',
        'name = authgate',
        'allow_sign_up = true',
        'client_id = ' + a.clientId
      ].concat(c.pub ? [] : ['client_secret = ' + SECRET]).concat([
        'scopes = ' + c.scopes.join(' '),
        'auth_url = ' + c.authorize,
        'token_url = ' + c.token,
        'api_url = ' + c.userinfo,
        'use_pkce = true',
        'auth_style = ' + (a.tokenEndpointAuthMethod === 'client_secret_basic' ? 'InHeader' : 'InParams'),
        'login_attribute_path = preferred_username',
        'name_attribute_path = name',
        'email_attribute_path = email'
      ]);
    },
    gitlab: function (a, c) {
      var options = ['        identifier: ' + q(a.clientId) + ','];
      if (!c.pub) options.push('        secret: ' + q(SECRET) + ',');
      options.push('        redirect_uri: ' + q(redirectFor(a, '/users/auth/openid_connect/callback', 'https://gitlab.example.com/users/auth/openid_connect/callback')));
      return [
        "gitlab_rails['omniauth_allow_single_sign_on'] = ['openid_connect']",
        "gitlab_rails['omniauth_providers'] = [",
        '  {',
        '    name: "openid_connect",',
        '    label: "authgate",',
        '    args: {',
        '      name: "openid_connect",',
        '      scope: [' + c.scopes.map(q).join(', ') + '],',
        '      response_type: "code",',
        '      issuer: ' + q(a.issuer) + ',',
        '      discovery: true,',
        '      client_auth_method: ' + q(a.tokenEndpointAuthMethod === 'client_secret_basic' ? 'basic' : 'query') + ',',
        '      uid_field: "preferred_username",',
        '      pkce: true,',
        '      client_options: {'
      ].concat(options).concat([
        '      }',
        '    }',
        '  }',
        ']'
      ]);
    },
    gitea: function (a, c) {
      var out = [
        'gitea admin auth add-oauth \\',
        '  --name authgate \\',
        '  --provider=openidConnect \\',
        '  --key=' + a.clientId + ' \\'
      ];
      if (!c.pub) out.push("  --secret='" + SECRET + "' \\");
      out.push('  --auto-discover-url=' + a.discoveryUrl + ' \\');
      out.push('  ' + c.scopes.map(function (s) { return '--scopes=' + s; }).join(' '));
      return out;
    },
    outline: function (a, c) {
      var scopes = c.scopes.slice();
      if (a.allowedScopes.indexOf('offline_access') >= 0) scopes.push('offline_access');
      return ['OIDC_CLIENT_ID=' + a.clientId]
        .concat(c.pub ? [] : ['OIDC_CLIENT_SECRET=' + SECRET])
        .concat([
          'OIDC_AUTH_URI=' + c.authorize,
          'OIDC_TOKEN_URI=' + c.token,
          'OIDC_USERINFO_URI=' + c.userinfo,
          'OIDC_LOGOUT_URI=' + c.endSession,
          'OIDC_USERNAME_CLAIM=preferred_username',
          'OIDC_DISPLAY_NAME=authgate',
          'OIDC_SCOPES=' + scopes.join(' ')
        ]);
    },
    jupyterhub: function (a, c) {
      var p = 'c.GenericOAuthenticator.';
      return [
        'c.JupyterHub.authenticator_class = "generic-oauth"',
        p + 'login_service = "authgate"',
        p + 'client_id = ' + q(a.clientId)
      ].concat(c.pub ? [] : [p + 'client_secret = ' + q(SECRET)]).concat([
        p + 'oauth_callback_url = ' + q(redirectFor(a, '/hub/oauth_callback', 'https://jupyter.example.com/hub/oauth_callback')),
        p + 'authorize_url = ' + q(c.authorize),
        p + 'token_url = ' + q(c.token),
        p + 'userdata_url = ' + q(c.userinfo),
        p + 'scope = [' + c.scopes.map(q).join(', ') + ']',
        p + 'username_claim = "preferred_username"',
        p + 'basic_auth = ' + (a.tokenEndpointAuthMethod === 'client_secret_basic' ? 'True' : 'False'),
        p + 'allow_all = True'
      ]);
    },
    apache: function (a, c) {
      // Any URL inside the protected location will do: the registered one, else an example.
      var redirect = redirectFor(a, '/redirect_uri', a.redirectUris[0] || 'https://app.example.com/protected/redirect_uri');
      var location = '/';
      try {
        var path = new URL(redirect).pathname;
        location = path.slice(0, path.lastIndexOf('/')) || '/';
      } catch (e) { location = '/'; }
      return [
        'OIDCProviderMetadataURL ' + a.discoveryUrl,
        'OIDCClientID ' + a.clientId
      ].concat(c.pub ? [] : ['OIDCClientSecret "' + SECRET + '"']).concat([
        'OIDCRedirectURI ' + redirect,
        'OIDCCryptoPassphrase "<random passphrase>"',
        'OIDCScope "' + c.scopes.join(' ') + '"',
        'OIDCProviderTokenEndpointAuth ' + a.tokenEndpointAuthMethod
      ]).concat(c.pub ? ['OIDCPKCEMethod S256'] : []).concat([
        'OIDCRemoteUserClaim preferred_username',
        '',
        '<Location ' + location + '>',
        '    AuthType openid-connect',
        '    Require valid-user',
        '</Location>'
      ]);
    },
    nocobase: function (a, c) {
      return [
        'Issuer: ' + a.discoveryUrl,
        'Client ID: ' + a.clientId
      ].concat(c.pub ? [] : ['Client Secret: ' + SECRET]).concat([
        'scope: ' + c.scopes.join(' '),
        'id_token signed response algorithm: ' + a.idTokenSignedResponseAlg,
        t('apps.nocobase_callback') + ': ' + redirectFor(a, '/api/oidc:redirect', 'https://nocobase.example.com/api/oidc:redirect')
      ]);
    }
  };

  function renderSnippet() {
    if (!shown) return;
    var a = shown;
    var c = {
      pub: isPublic(a),
      scopes: ['openid', 'profile', 'email'].filter(function (s) { return s === 'openid' || a.allowedScopes.indexOf(s) >= 0; }),
      authorize: endpoint('authorization_endpoint', '/oidc/authorize'),
      token: endpoint('token_endpoint', '/oidc/token'),
      userinfo: endpoint('userinfo_endpoint', '/oidc/userinfo'),
      endSession: endpoint('end_session_endpoint', '/oidc/end_session')
    };
    document.getElementById('app-snippet').textContent = SNIPPETS[snippet](a, c).join('\n');
    document.getElementById('app-snippet-note').textContent = t('apps.snippet_' + snippet);
    document.getElementById('app-snippet-panel').setAttribute('aria-labelledby', 'snippet-tab-' + snippet);
    Array.prototype.forEach.call(document.querySelectorAll('#app-details .subtab'), function (b) {
      b.setAttribute('aria-selected', b.getAttribute('data-snippet') === snippet ? 'true' : 'false');
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll('#app-details .subtab'), function (b) {
    b.addEventListener('click', function () {
      snippet = b.getAttribute('data-snippet');
      renderSnippet();
    });
  });

  // ------------------------------------------------------------------ grants
  function scopeText(scope) {
    return String(scope || '').split(' ').filter(function (s) { return s; }).join(' ');
  }
  function userLabel(g) { return (g.username || '') + ' #' + g.userId; }

  function revoke(g, then) {
    if (!window.confirm(t('grants.revoke_confirm', { app: g.clientName, user: userLabel(g) }))) return;
    AG.api('POST', '/api/oidcGrants:revoke', { userId: g.userId, clientId: g.clientId }).then(function (r) {
      if (!guard(r)) return;
      notice(t('grants.revoked'));
      then();
    });
  }

  // One row per key (a person may have signed in to an application several times).
  function distinct(list, key) {
    var seen = {};
    return list.filter(function (g) {
      var k = String(g[key]);
      if (seen[k]) return false;
      seen[k] = true;
      return true;
    });
  }

  function loadAppGrants(a) {
    var tbody = document.querySelector('#app-grants tbody');
    AG.api('GET', '/api/oidcGrants:list?clientId=' + encodeURIComponent(a.clientId)).then(function (r) {
      if (!guard(r) || !shown || shown.clientId !== a.clientId) return;
      tbody.textContent = '';
      var grants = distinct(r.data, 'userId');
      if (!grants.length) emptyRow(tbody, 4, t('apps.grants_none'));
      grants.forEach(function (g) {
        tbody.appendChild(el('tr', { dataset: { user: String(g.userId) } }, [
          td(t('grants.user'), [userLabel(g)]),
          td(t('grants.scopes'), [scopeText(g.scope)], 'scopes'),
          td(t('grants.granted'), [AG.time(g.grantedAt)]),
          td(t('common.actions'), [button(t('grants.revoke'), function () { revoke(g, function () { loadAppGrants(a); }); }, 'revoke danger')], 'actions')
        ]));
      });
    });
  }

  function loadUserGrants(box, userId) {
    if (!box) return;
    if (!/^\d+$/.test(String(userId || ''))) { box.hidden = true; return; }
    AG.api('GET', '/api/oidcGrants:list?userId=' + encodeURIComponent(userId)).then(function (r) {
      if (!guard(r)) return;
      var tbody = box.querySelector('tbody');
      tbody.textContent = '';
      var grants = distinct(r.data, 'clientId');
      if (!grants.length) emptyRow(tbody, 4, t('grants.none'));
      grants.forEach(function (g) {
        tbody.appendChild(el('tr', { dataset: { client: g.clientId } }, [
          td(t('grants.application'), [g.clientName]),
          td(t('grants.scopes'), [scopeText(g.scope)], 'scopes'),
          td(t('grants.granted'), [AG.time(g.grantedAt)]),
          td(t('common.actions'), [button(t('grants.revoke'), function () { revoke(g, function () { loadUserGrants(box, userId); }); }, 'revoke danger')], 'actions')
        ]));
      });
      box.hidden = false;
    });
  }

  // admin.js asks for a user's grants when it shows that user (details, sessions).
  document.addEventListener('ag:user-grants', function (ev) {
    loadUserGrants(document.getElementById(ev.detail.box), ev.detail.userId);
  });

  document.addEventListener('ag:tab', function (ev) {
    if (ev.detail === 'sec-apps') loadApps();
  });
})();
