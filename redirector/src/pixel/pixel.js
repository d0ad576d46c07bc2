/* Revtrail pixel: <script async src="https://go.brand.com/p.js" data-auto-identify></script>
 * Stub that queues calls made before the pixel has loaded (put it before them):
 * <script>window.revtrail=window.revtrail||{q:[]};revtrail.identify=revtrail.identify||function(e){revtrail.q.push(['identify',e])}</script>
 * What it posts and why: asset.ts beside this file. */
(function (w, d, L, N) {
  'use strict';
  // The one place errors stop: nothing may throw into the page. (ES2017 has no optional catch binding.)
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  var safe = function (f) { try { return f(); } catch (e) { return false; } };
  var ID = /^[\w-]{22}$/;
  var OWN = /^rt_vid(=|$)/;
  var FIELD = 'input[type=email],input[name*=email i]:not([type=hidden]):not([type=password])';

  safe(function () {
    var R = (w.revtrail = w.revtrail || {});
    var s = d.currentScript || [].filter.call(d.scripts, (e) => /\/p\.js([?#]|$)/.test(e.src)).pop();
    if (R.loaded || !s) return;
    R.loaded = true;
    var C = new URL('api/v1/collect', s.src).href;
    var V;

    var read = () => (/(?:^|;\s*)rt_vid=([\w-]{22})(?:;|$)/.exec(d.cookie) || [])[1];
    // location.href minus rt_vid, every other byte kept
    var here = () => {
      var q = L.search.slice(1).split('&'), k = q.filter((p) => !OWN.test(p)), j = k.join('&');
      return k.length < q.length ? L.href.split(/[?#]/)[0] + (j ? '?' + j : '') + L.hash : L.href;
    };
    var send = (o) => {
      o.vid = read() || V;
      var b = JSON.stringify(o);
      if (!safe(() => N.sendBeacon(C, b))) {
        safe(() => fetch(C, { method: 'POST', body: b, keepalive: true, credentials: 'include', headers: { 'content-type': 'text/plain' } }).catch(() => 0));
      }
    };
    var mail = (e) => {
      e = typeof e === 'string' ? e.trim() : '';
      return e.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(e) ? e : '';
    };
    var identify = (e, src) => {
      e = mail(e);
      if (e) send({ t: 'identify', email: e, url: here(), src });
      return !!e;
    };

    var u = here();
    if (u !== L.href) {
      var id = new URLSearchParams(L.search).get('rt_vid');
      if (ID.test(id)) d.cookie = 'rt_vid=' + (V = id) + '; path=/; max-age=2592000; samesite=lax' + (L.protocol === 'https:' ? '; secure' : '');
      safe(() => history.replaceState(history.state, '', u));
    }
    send({ t: 'pageview', url: u, ref: d.referrer });

    R.identify = (e) => safe(() => identify(e, 'api'));
    var run = (a) => a && a[0] === 'identify' && R.identify(a[1]);
    var Q = R.q;
    R.q = { push: (...a) => a.forEach(run) };
    [].forEach.call(Q || [], run);

    // capture phase: before the page's own handlers; never cancels or delays the submit
    if (s.hasAttribute('data-auto-identify')) {
      d.addEventListener('submit', (ev) => safe(() => {
        var f = [].find.call(ev.target.elements, (el) => el.matches(FIELD) && mail(el.value));
        if (f) identify(f.value, 'form');
      }), true);
    }
  });
})(window, document, location, navigator);
