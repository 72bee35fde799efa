// Shared helpers of authgate's pages: strings, the JSON API with the CSRF header, tabs,
// the language switch. Never builds HTML from data: text goes through textContent.
(function () {
  'use strict';
  var body = document.body;
  var catalog = {};
  try { catalog = JSON.parse(body.getAttribute('data-i18n') || '{}'); } catch (e) { catalog = {}; }
  var lang = body.getAttribute('data-lang') || 'en';

  function t(key, vars) {
    var s = Object.prototype.hasOwnProperty.call(catalog, key) ? catalog[key] : key;
    if (vars) {
      Object.keys(vars).forEach(function (k) { s = s.split('{' + k + '}').join(String(vars[k])); });
    }
    return s;
  }

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf('=');
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return '';
  }

  // Calls the API; resolves to {ok, status, data, meta, message, code, retryAfter}.
  function api(method, path, payload, headers) {
    var h = { 'Accept': 'application/json', 'Accept-Language': lang };
    if (payload !== undefined) h['Content-Type'] = 'application/json';
    var csrf = cookie('authgate_csrf');
    if (csrf && method !== 'GET') h['X-CSRF-Token'] = csrf;
    Object.keys(headers || {}).forEach(function (k) { h[k] = headers[k]; });
    return fetch(path, {
      method: method,
      headers: h,
      credentials: 'same-origin',
      body: payload === undefined ? undefined : JSON.stringify(payload)
    }).then(function (r) {
      return r.text().then(function (text) {
        var json = {};
        try { json = text ? JSON.parse(text) : {}; } catch (e) { json = {}; }
        var err = (json.errors && json.errors[0]) || {};
        return {
          ok: r.ok,
          status: r.status,
          data: json.data,
          meta: json.meta,
          message: r.ok ? '' : (err.message || r.statusText || String(r.status)),
          code: err.code || '',
          retryAfter: r.headers.get('Retry-After')
        };
      });
    }, function () {
      return { ok: false, status: 0, message: t('common.network'), code: 'NETWORK' };
    });
  }

  function show(el, text) { if (el) { el.textContent = text; el.hidden = false; } }
  function hide(el) { if (el) { el.textContent = ''; el.hidden = true; } }

  // el('td', {className: 'x'}, ['text', otherNode]): strings become text nodes.
  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === 'dataset') {
        Object.keys(props.dataset).forEach(function (d) { node.dataset[d] = props.dataset[d]; });
      } else if (k === 'attrs') {
        Object.keys(props.attrs).forEach(function (a) { node.setAttribute(a, props.attrs[a]); });
      } else {
        node[k] = props[k];
      }
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
    return node;
  }

  function time(iso) {
    if (!iso) return '';
    var d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toLocaleString(lang);
  }

  function tabs(root) {
    var list = (root || document).querySelectorAll('.tabs [role=tab]');
    Array.prototype.forEach.call(list, function (tab) {
      tab.addEventListener('click', function () {
        Array.prototype.forEach.call(list, function (other) {
          var on = other === tab;
          other.setAttribute('aria-selected', on ? 'true' : 'false');
          var panel = document.getElementById(other.getAttribute('data-panel'));
          if (panel) panel.hidden = !on;
        });
        document.dispatchEvent(new CustomEvent('ag:tab', { detail: tab.getAttribute('data-panel') }));
      });
    });
  }

  function redirectTarget() {
    var holder = document.querySelector('[data-redirect]');
    var r = holder ? holder.getAttribute('data-redirect') : '/';
    // The server validated it (an allowed origin or a path on this site); never let a
    // scheme-relative path through even so.
    var path = r && r.charAt(0) === '/' && r.charAt(1) !== '/' && r.charAt(1) !== '\\';
    return path || /^https?:\/\/[^\/\\]/i.test(r || '') ? r : '/';
  }

  Array.prototype.forEach.call(document.querySelectorAll('.lang-switch'), function (b) {
    b.addEventListener('click', function () {
      var secure = location.protocol === 'https:' ? '; secure' : '';
      document.cookie = 'lang=' + encodeURIComponent(b.getAttribute('data-lang')) + '; path=/; max-age=31536000; samesite=lax' + secure;
      location.reload();
    });
  });
  tabs(document);

  // On narrow screens a `table.stack` shows each row as a card of labelled lines: cells the
  // page did not label take their column's heading, whenever rows are added.
  function labelCells(table) {
    var heads = Array.prototype.map.call(table.querySelectorAll('thead th'), function (th) { return th.textContent; });
    Array.prototype.forEach.call(table.querySelectorAll('tbody tr'), function (tr) {
      Array.prototype.forEach.call(tr.children, function (td, i) {
        if (!td.hasAttribute('data-label') && heads[i]) td.setAttribute('data-label', heads[i]);
      });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.stack'), function (table) {
    var body = table.tBodies[0];
    if (!body) return;
    new MutationObserver(function () { labelCells(table); }).observe(body, { childList: true });
  });

  window.AG = { t: t, api: api, show: show, hide: hide, el: el, time: time, lang: lang, redirectTarget: redirectTarget, cookie: cookie };
})();
