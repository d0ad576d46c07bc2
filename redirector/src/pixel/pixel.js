/* Revtrail pixel: the snippet, what it sends and why in asset.ts */
(function (w, d, L, N, S) {
  'use strict';
  // The one place errors stop: nothing may throw into the page. (ES2017 has no optional catch binding.)
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  var safe = function (f) { try { return f(); } catch (e) { return false; } };
  var ID = /^[\w-]{22}$/;
  var OWN = /^rt_vid(=|$)/;
  var FIELD = 'input[type=email],input[name*=email i]:not([type=hidden]):not([type=password])';

  safe(function () {
    var R = w.revtrail || {};
    var s = d.currentScript || [].filter.call(d.scripts, (e) => /\/p\.js([?#]|$)/.test(e.src)).pop();
    if (R.loaded || !s) return;
    var C = new URL('api/v1/collect', s.src), O = C.host === L.host;
    var V, A;

    var get = (n) => (RegExp('(?:^|;\\s*)' + n + '=([\\w.-]*)').exec(d.cookie) || [])[1];
    var put = (n, v, a) => (d.cookie = n + '=' + v + '; path=/; max-age=' + a + '; samesite=lax' + (L.protocol === 'https:' ? '; secure' : ''));
    // GPC objects; else consent given (1), refused (0) or unasked (as the mode says)
    var ok = () => !(S.g && N.globalPrivacyControl) && (S.c === 'off' || (get('rt_consent') || (S.c === 'opt-in' ? '0' : '1')) === '1');
    // location.href minus rt_vid, every other byte kept
    var here = () => {
      var q = L.search.slice(1).split('&'), k = q.filter((p) => !OWN.test(p)), j = k.join('&');
      return k.length < q.length ? L.href.split(/[?#]/)[0] + (j ? '?' + j : '') + L.hash : L.href;
    };
    var post = (o) => {
      var b = JSON.stringify(o);
      if (!safe(() => N.sendBeacon(C, b))) {
        safe(() => fetch(C, { method: 'POST', body: b, keepalive: true, credentials: 'include', headers: { 'content-type': 'text/plain' } }).catch(() => 0));
      }
    };
    var send = (o) => {
      if (!ok()) return false;
      var v = get('rt_vid');
      o.vid = ID.test(v) ? v : V;
      if (S.c !== 'off' && get('rt_consent') === '1') o.c = 1;
      post(o);
      return true;
    };
    var mail = (e) => {
      e = typeof e === 'string' ? e.trim() : '';
      return e.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(e) ? e : '';
    };
    var identify = (e, src) => !!(e = mail(e)) && send({ t: 'identify', email: e, url: here(), src });

    var u = here();
    var P = { t: 'pageview', url: u, ref: d.referrer };
    if (u !== L.href) {
      A = new URLSearchParams(L.search).get('rt_vid');
      safe(() => history.replaceState(history.state, '', u));
    }
    // Adopts the landing URL's visitor id and sends the pageview, once tracking is allowed.
    var start = () => {
      if (!ok()) return;
      // same origin (the site's own prefix): only the server's Set-Cookie keeps the id
      if (ID.test(A) && (V = A) && !O) put('rt_vid', A, S.m);
      A = 0;
      if (P) {
        var f = new URLSearchParams(L.search).get('fbclid'), c = get('_fbc');
        if (S.f && /^[\w-]+$/.test(f || '.') && (c || '').split('.')[3] !== f) put('_fbc', (c = 'fb.' + (L.hostname.split('.').length - 1) + '.' + Date.now() + '.' + f), S.m);
        P.fbc = c;
        P.fbp = get('_fbp');
        send(P);
      }
      P = 0;
    };
    var consent = (v) => {
      if (S.c === 'off') return;
      var on = ok();
      put('rt_consent', v ? 1 : 0, S.m);
      if (v) start();
      else if (on) post({ t: 'forget' }, put('rt_vid', '', 0), (V = 0));
    };
    start();

    var F = (w.revtrail = (c, v) => safe(() => (c === 'consent' ? consent(v) : c === 'identify' && identify(v, 'api'))));
    F.loaded = true;
    F.identify = (e) => F('identify', e);
    var run = (a) => a && F(a[0], a[1]);
    F.q = { push: (...a) => a.forEach(run) };
    [].forEach.call(R.q || [], run);

    // capture phase: before the page's own handlers; never cancels or delays the submit
    if (s.hasAttribute('data-auto-identify')) {
      d.addEventListener('submit', (ev) => safe(() => {
        var f = [].find.call(ev.target.elements, (el) => el.matches(FIELD) && mail(el.value));
        if (f) identify(f.value, 'form');
      }), true);
    }
  });
})(window, document, location, navigator, {"m":2592000,"c":"off","g":1,"f":0});
