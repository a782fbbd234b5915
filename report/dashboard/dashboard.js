// parity dashboard script. The page is complete without it; with it the route
// list filters and sorts, and a live page re-renders itself every few seconds
// from the report.json beside it, showing the verdicts, steps and headline the
// server judged there (the browser test holds the two side by side): the
// script keeps no copy of the gate's, the plan's or the auth rule. Values
// only ever reach the page as text: textContent and attributes, never markup.
(function () {
  'use strict';

  var cfgEl = document.getElementById('parity-config');
  if (!cfgEl) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var th = cfg.thresholds;
  var SVG = 'http://www.w3.org/2000/svg';
  document.documentElement.classList.add('js');

  // ---- Formatting, as Go's fmt does it for the server's renderers ----

  // fixed is fmt's %.{d}f: exact decimal value, ties to even.
  function fixed(x, d) {
    var s = x.toFixed(d);
    var e = Math.abs(x).toFixed(Math.min(100, d + 25));
    var dot = e.indexOf('.');
    var tail = e.slice(dot + d + 1);
    if (tail.charAt(0) === '5' && /^0*$/.test(tail.slice(1))) {
      var kept = e.slice(0, d > 0 ? dot + d + 1 : dot);
      var last = kept.charAt(kept.length - 1);
      if ((last.charCodeAt(0) - 48) % 2 === 0) s = (x < 0 ? '-' : '') + kept;
    }
    return s;
  }
  function trimZeros(s) { return s.replace(/0+$/, '').replace(/\.$/, ''); }
  function fmtPercent(f) { return trimZeros(fixed(f * 100, 2)) + '%'; }
  function fmtMs(ms) { return Math.abs(ms) >= 100 ? fixed(ms, 0) + 'ms' : trimZeros(fixed(ms, 1)) + 'ms'; }
  function fmtCount(n) {
    var s = String(n);
    if (n < 0) return s;
    return s.replace(/\B(?=(\d{3})+$)/g, ',');
  }
  function fmtParity(r) { return r.compared === 0 ? '-' : fixed(r.parity * 100, 2) + '%'; }
  function fmtLower(r) { return r.compared === 0 ? '-' : fixed(r.parity_lower * 100, 2) + '%'; }
  function pct(f) { return fixed(Math.max(0, Math.min(100, f * 100)), 1); }
  function fmtTime(s) {
    if (!s || s.indexOf('0001-01-01') === 0) return '-';
    return s.replace(/\.\d+/, '');
  }
  function clock(s) {
    var m = /T(\d\d:\d\d:\d\d)/.exec(s || '');
    return m ? m[1] + ' UTC' : '-';
  }
  // seenLine is the server's: the share of requests and when a group was seen.
  function seenClock(s) {
    var m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)/.exec(s || '');
    return m ? m[1] + ' ' + m[2] + ' UTC' : '';
  }
  function seenLine(d) {
    var parts = [fmtPercent(d.share || 0) + ' of requests'];
    if (d.first_seen) parts.push('first seen ' + seenClock(d.first_seen), 'last seen ' + seenClock(d.last_seen));
    return parts.join(' · ');
  }
  function sortedKeys(m) { return Object.keys(m || {}).sort(); }
  function summary(m) {
    return sortedKeys(m).map(function (k) { return k + ' ' + m[k]; }).join(', ');
  }
  function sum(m) {
    var n = 0;
    for (var k in m) if (Object.prototype.hasOwnProperty.call(m, k)) n += m[k];
    return n;
  }
  function oneLine(s) { return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' '); }
  var verdictLabel = { pass: 'pass', fail: 'fail', inconclusive: 'not yet' };
  function label(v) { return verdictLabel[v] || v; }

  // goQuote is strconv.Quote.
  function goQuote(s) {
    var out = '"';
    for (var ch of s) {
      var c = ch.codePointAt(0);
      if (ch === '"' || ch === '\\') out += '\\' + ch;
      else if (c === 7) out += '\\a';
      else if (c === 8) out += '\\b';
      else if (c === 12) out += '\\f';
      else if (c === 10) out += '\\n';
      else if (c === 13) out += '\\r';
      else if (c === 9) out += '\\t';
      else if (c === 11) out += '\\v';
      else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
      else if (c === 0x20 || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch)) out += ch;
      else if (c < 0x10000) out += '\\u' + c.toString(16).padStart(4, '0');
      else out += '\\U' + c.toString(16).padStart(8, '0');
    }
    return out + '"';
  }
  // yamlScalar and silenceYAML are the server's: the config that silences a path.
  function yamlScalar(s) {
    var plain = s !== '';
    for (var i = 0; i < s.length && plain; i++) {
      var c = s.charCodeAt(i);
      plain = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) ||
        '._-/#:'.indexOf(s.charAt(i)) >= 0 || (c === 32 && i > 0 && s.charAt(i - 1) !== ':');
    }
    if (plain && (s.indexOf(': ') >= 0 || s.indexOf(' #') >= 0 || /:$/.test(s) || s.charAt(0) === '#' || / $/.test(s))) plain = false;
    return plain ? s : goQuote(s);
  }
  function silenceYAML(route, p) {
    return 'routes:\n  - match: ' + yamlScalar(route) + '\n    ignore: [' + yamlScalar(p) + ']\n';
  }

  // ---- The gate, as report.Judge; each route's verdict and its evidence come
  // from the server (report.json's verdicts), which holds the statistics ----

  function mirroredCount(r) { return r.compared + r.candidate_transport_errors; }
  function errorRate(r) {
    var n = mirroredCount(r);
    return n === 0 ? 0 : r.candidate_errors / n;
  }
  // slowerCandidate is the server's: the candidate's p99 over the threshold,
  // whatever the sample count, to colour it.
  function slowerCandidate(r) {
    var c = r.latency.candidate.p99_ms, p = r.latency.primary.p99_ms;
    if (r.latency.candidate.count === 0 || r.latency.primary.count === 0 || th.max_p99_ratio <= 0) return false;
    return c > th.max_p99_ratio * p && c - p > th.p99_floor_ms;
  }
  // ---- Security regressions: the server's verdict already fails (or warns
  // about) a route with one, under thresholds.security; here they are only
  // marked and shown first ----

  function secReason(rule) { return (cfg.security_reasons || {})[rule] || rule; }
  function securityFirst(groups) {
    if (!groups.some(function (d) { return !!d.security; })) return groups;
    return groups.filter(function (d) { return !!d.security; }).concat(groups.filter(function (d) { return !d.security; }));
  }

  function routeLabel(rv) { return rv.never ? cfg.never_mirrored[0] : label(rv.verdict); }
  function judgeRoute(r, verdicts) {
    var e = verdicts.get(r.route);
    if (e && e.never_mirrored) return ['inconclusive', cfg.never_mirrored[1], true];
    if (e) return [e.verdict, e.reason];
    return ['inconclusive', 'no verdict from the server for this route'];
  }

  // routePath is the path of a route key ("GET /api/x"), for display.
  function routePath(key) {
    var i = key.indexOf(' ');
    if (i >= 0) return key.slice(i + 1);
    return key.charAt(0) === '/' ? key : '';
  }
  var severity = { fail: 2, inconclusive: 1, pass: 0 };
  function cmp(a, b) { return a < b ? -1 : a > b ? 1 : 0; }
  function worstFirst(a, b) {
    if ((a.r.compared === 0) !== (b.r.compared === 0)) return a.r.compared === 0 ? 1 : -1;
    return cmp(a.r.parity, b.r.parity) || cmp(b.r.mismatched, a.r.mismatched) ||
      cmp(severity[b.verdict], severity[a.verdict]) || cmp(a.r.route, b.r.route);
  }

  // view is report's newView: everything the page shows, from a snapshot.
  function view(snap) {
    var v = { routes: [], compared: 0, matched: 0, mismatched: 0, errors: 0, auth: 0, skipped: 0, budget: 0, pass: 0, fail: 0, inc: 0, never: 0, cut: [], steps: [] };
    var verdicts = new Map();
    (snap.verdicts || []).forEach(function (e) { verdicts.set(e.route, e); });
    var lim = snap.limits || {};
    snap.routes.forEach(function (r) {
      r.skipped = r.skipped || {};
      r.differences = r.differences || [];
      r.noise = r.noise || [];
      var j = judgeRoute(r, verdicts);
      // The lower bound shown is the verdict's (always valid), not the snapshot's Wilson bound.
      var ev = verdicts.get(r.route);
      if (ev && ev.parity && ev.parity.samples > 0) r.parity_lower = ev.parity.lower;
      var rv = { r: r, route: r.route, verdict: j[0], reason: j[1], never: !!j[2], step: (ev && ev.step) || 0 };
      var n = Math.min(cfg.top, r.differences.length);
      rv.top = securityFirst(r.differences).slice(0, n);
      rv.more = r.differences.length - n;
      v.routes.push(rv);
      v.compared += r.compared;
      v.matched += r.matched;
      v.mismatched += r.mismatched;
      v.errors += r.candidate_errors;
      v.auth += r.candidate_auth_failures;
      v.skipped += sum(r.skipped);
      v.budget += r.skipped.compare_budget || 0;
      if (j[2]) v.never++; // shown apart: neither waiting for evidence nor judged
      else if (j[0] === 'pass') v.pass++;
      else if (j[0] === 'fail') v.fail++;
      else v.inc++;
      if (r.differences_dropped > 0) {
        v.cut.push(r.route + ': ' + r.differences_dropped + ' differences over the cap of ' + lim.paths_per_route + ' paths were counted but not grouped');
      }
      if (r.differences_omitted > 0) {
        v.cut.push(r.route + ': ' + r.differences_omitted + ' differences were left out of comparison results over their bound');
      }
      if (r.noise_dropped > 0) {
        v.cut.push(r.route + ': ' + r.noise_dropped + ' noise occurrences over the cap of ' + lim.paths_per_route + ' patterns were not grouped');
      }
    });
    if (snap.routes_overflowed > 0) {
      v.cut.unshift(snap.routes_overflowed + ' requests on routes beyond the cap of ' + lim.routes + ' were counted under OTHER');
    }
    v.routes.sort(worstFirst);
    // The gate's verdict, headline and steps are the server's: the plan's
    // prefixes and the auth rule have their one home there.
    var gate = snap.gate || {};
    v.verdict = gate.verdict || 'inconclusive';
    v.headline = gate.headline || 'no verdict from the server';
    v.steps = gate.steps || [];
    v.next = gate.next || 0;
    return v;
  }

  // ---- DOM helpers: text only ----

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return parent;
  }
  function badge(v, big) { return el('span', 'badge ' + (big ? 'big ' : '') + v, label(v)); }
  function code(s) { return el('code', null, s); }
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---- Rendering ----

  // The tab's icon is the verdict's colour, for an operator with many tabs.
  var icons = {};
  ['pass', 'fail', 'inconclusive'].forEach(function (v) { icons[v] = cfg.icons && cfg.icons[v]; });
  function renderTop(v) {
    $('top').className = 'top ' + v.verdict;
    var icon = $('favicon');
    if (icon && icons[v.verdict] && icon.getAttribute('href') !== icons[v.verdict]) icon.setAttribute('href', icons[v.verdict]);
    var b = $('verdict');
    b.className = 'badge big ' + v.verdict;
    b.textContent = label(v.verdict);
    $('headline').textContent = v.headline;
  }

  function tile(k, value, sub) {
    return add(el('div', 'tile'), el('div', 'k', k), value, add.apply(null, [el('div', 's')].concat(sub)));
  }
  function renderTiles(v) {
    var overall = v.compared > 0 ? fixed(v.matched / v.compared * 100, 2) + '%' : '-';
    var compared = el('div', 'v', fmtCount(v.compared));
    compared.id = 'compared';
    $('tiles').replaceChildren(
      tile('Routes', el('div', 'v', String(v.routes.length)),
        [el('span', 't-fail', v.fail + ' fail'), ' · ', el('span', 't-inconclusive', v.inc + ' not yet'), ' · ', el('span', 't-pass', v.pass + ' pass')]),
      tile('Parity', el('div', 'v' + (v.compared > 0 ? (v.matched / v.compared < th.min_parity ? ' t-fail' : ' t-pass') : ''), overall),
        ['threshold ' + fmtPercent(th.min_parity)]),
      tile('Compared', compared, [fmtCount(v.matched) + ' matched']),
      tile('Mismatched', el('div', 'v', fmtCount(v.mismatched)), ['after rules and noise']),
      tile('Candidate errors', el('div', 'v', fmtCount(v.errors)), [fmtCount(v.auth) + ' unexpected 401/403']),
      tile('Skipped', el('div', 'v', fmtCount(v.skipped)),
        ['not compared' + (v.budget > 0 ? ', ' + fmtCount(v.budget) + ' over the comparison budget' : '')])
    );
  }

  // charts is report's newCharts, drawn into the two SVGs.
  var W = 640, H = 150, L = 48, R = 12, T = 10, B = 22, PW = W - L - R, PH = H - T - B;
  var windows = [15, 60, 180, 360], floors = [0.98, 0.95, 0.9, 0.8, 0.5, 0];
  function minuteOf(s) { return Math.floor(Date.parse(s) / 60000); }
  function hhmm(m) { return new Date(m * 60000).toISOString().slice(11, 16); }
  function num(f) { return f.toFixed(1); }
  function niceCeil(n) {
    for (var step = 1; ; step *= 10) {
      for (var i = 0; i < 3; i++) { var c = [1, 2, 5][i] * step; if (c >= n) return c; }
    }
  }
  function renderCharts(snap) {
    var pts = snap.series || [];
    var ps = $('chart-parity').querySelector('svg'), ts = $('chart-traffic').querySelector('svg');
    var wins = document.querySelectorAll('#charts .win');
    var axes = function () {
      return [svg('line', { 'class': 'axis', x1: L, y1: T, x2: W - R, y2: T }), svg('line', { 'class': 'axis', x1: L, y1: T + PH, x2: W - R, y2: T + PH })];
    };
    var text = function (lb) { return svg('text', { x: lb[0], y: lb[1], 'text-anchor': lb[3] }, lb[2]); };
    var empty = function (s) { return svg('text', { 'class': 'empty', x: '338', y: '74', 'text-anchor': 'middle' }, s); };
    if (pts.length === 0) {
      wins.forEach(function (w) { w.textContent = 'no traffic charted yet'; });
      ps.replaceChildren.apply(ps, axes().concat(empty('nothing compared yet')));
      ts.replaceChildren.apply(ts, axes().concat(empty('nothing mirrored yet')));
      $('chart-last').textContent = '';
      return;
    }
    var first = minuteOf(pts[0].minute), latest = minuteOf(pts[pts.length - 1].minute), end = latest;
    if (snap.updated && snap.updated.indexOf('0001-01-01') !== 0) end = Math.max(end, minuteOf(snap.updated));
    var win = windows[windows.length - 1];
    for (var i = 0; i < windows.length; i++) if (end - first + 1 <= windows[i]) { win = windows[i]; break; }
    var start = end - win + 1;
    var winText = 'last ' + (win % 60 === 0 ? (win / 60) + ' h' : win + ' min') + ' (UTC)';
    wins.forEach(function (w) { w.textContent = winText; });
    var xl = [[num(L), num(H - 6), hhmm(start), 'start'], [num(L + PW / 2), num(H - 6), hhmm(start + Math.floor(win / 2)), 'middle'],
      [num(W - R), num(H - 6), hhmm(end), 'end']];
    var x = function (m) { return L + (m - start + 0.5) * PW / win; };
    var lo = th.min_parity, top = 0;
    pts.forEach(function (p) {
      if (minuteOf(p.minute) < start) return;
      if (p.compared > 0) lo = Math.min(lo, p.matched / p.compared);
      top = Math.max(top, p.mirrored);
    });
    var floor = 0;
    for (var f = 0; f < floors.length; f++) if (floors[f] < lo) { floor = floors[f]; break; }
    var y = function (p) { return T + (1 - (p - floor) / (1 - floor)) * PH; };
    var d = [], dots = [], prev = null;
    pts.forEach(function (p) {
      var m = minuteOf(p.minute);
      if (m < start || p.compared === 0) return;
      var par = p.matched / p.compared;
      d.push((prev !== null && m === prev + 1 ? 'L' : 'M') + num(x(m)) + ' ' + num(y(par)));
      prev = m;
      dots.push(svg('circle', { 'class': 'dot' + (par < th.min_parity ? ' low' : ''), cx: num(x(m)), cy: num(y(par)), r: '2.5' }));
    });
    var pk = axes();
    if (th.min_parity > floor && th.min_parity < 1) {
      pk.push(svg('line', { 'class': 'threshold', x1: L, y1: num(y(th.min_parity)), x2: W - R, y2: num(y(th.min_parity)) }));
    }
    if (d.length) pk.push(svg('path', { 'class': 'line', d: d.join(' ') }));
    pk = pk.concat(dots, [[num(L - 6), num(T + 4), '100%', 'end'], [num(L - 6), num(T + PH + 4), fmtPercent(floor), 'end']].map(text), xl.map(text));
    if (!d.length) pk.push(empty('nothing compared yet'));
    ps.replaceChildren.apply(ps, pk);

    var yMax = niceCeil(top), bw = Math.max(1, PW / win * 0.7), tk = axes(), bars = 0;
    pts.forEach(function (p) {
      var m = minuteOf(p.minute);
      if (m < start || p.mirrored === 0) return;
      var h = p.mirrored / yMax * PH;
      var r = svg('rect', { 'class': 'bar', x: num(x(m) - bw / 2), y: num(T + PH - h), width: num(bw), height: num(h) });
      r.appendChild(svg('title', {}, hhmm(m) + ': ' + fmtCount(p.mirrored) + ' mirrored'));
      tk.push(r);
      bars++;
    });
    tk = tk.concat([[num(L - 6), num(T + 4), fmtCount(yMax), 'end'], [num(L - 6), num(T + PH + 4), '0', 'end']].map(text), xl.map(text));
    if (!bars) tk.push(empty('nothing mirrored yet'));
    ts.replaceChildren.apply(ts, tk);

    var last = pts[pts.length - 1];
    var s = hhmm(minuteOf(last.minute)) + ': ' + fmtCount(last.mirrored) + ' mirrored, ' + fmtCount(last.compared) + ' compared';
    if (last.compared > 0) s += ', parity ' + fmtPercent(last.matched / last.compared);
    $('chart-last').textContent = 'Last minute ' + s + '.';
  }

  function renderSteps(v) {
    var ol = $('steps');
    if (!ol) return;
    ol.replaceChildren.apply(ol, v.steps.map(function (s) {
      var next = s.number === v.next;
      var li = el('li', 'step ' + s.verdict + (next ? ' next' : ''));
      li.dataset.step = String(s.number);
      var state = add(el('div', 'state'), badge(s.verdict), next ? ' ' : null, next ? el('span', 'nextmark', 'next') : null, ' ',
        el('span', 'muted', s.routes + ' routes: ' + s.pass + ' pass, ' + s.fail + ' fail, ' + s.inc + ' not yet'));
      var body = add(el('div', 'body'), el('h3', null, s.name), state, el('p', 'why', s.reason),
        s.validate ? el('p', 'guide', 'Guide: ' + s.validate) : null);
      return add(li, el('div', 'num', String(s.number)), body);
    }));
  }

  function latencyPair(r, q) {
    var p = r.latency.primary, c = r.latency.candidate;
    if (p.count === 0 && c.count === 0) return '-';
    var f = function (l) { return l.count === 0 ? '-' : fmtMs(q === 50 ? l.p50_ms : l.p99_ms); };
    return f(p) + ' · ' + f(c);
  }
  function latencyGap(r, q) {
    var p = r.latency.primary, c = r.latency.candidate;
    if (p.count === 0 || c.count === 0) return 0;
    return q === 50 ? c.p50_ms - p.p50_ms : c.p99_ms - p.p99_ms;
  }
  function searchText(rv) {
    return [rv.route, rv.verdict, routeLabel(rv)].concat(rv.r.differences.map(function (d) { return d.path; })).join(' ').toLowerCase();
  }
  function routeMethod(r) {
    if (r.method === '' && r.route === 'OTHER') return '';
    var i = r.route.indexOf(' ');
    return i > 0 ? r.route.slice(0, i) : '';
  }

  function summaryCells(rv) {
    var r = rv.r, c = [];
    var route = el('span', 'c route');
    var m = routeMethod(r);
    if (m) add(route, el('span', 'meth', m), ' ');
    var rp = el('code', 'rp', routePath(r.route) || r.route);
    rp.title = r.route;
    add(route, rp);
    if (rv.step) add(route, ' ', el('span', 'stepn', 'step ' + rv.step));
    c.push(route);
    c.push(add(el('span', 'c verdict'), el('span', 'badge ' + rv.verdict, routeLabel(rv))));
    var par = el('span', 'c parity');
    if (r.compared > 0) {
      var fill = el('span', 'fill' + (r.parity < th.min_parity ? ' low' : ''));
      fill.style.width = pct(r.parity) + '%';
      var lower = el('span', 'lower');
      lower.style.left = pct(r.parity_lower) + '%';
      add(par, el('span', 'pv', fmtParity(r)), add(el('span', 'pbar'), fill, lower), el('span', 'lb', '≥ ' + fmtLower(r)));
    } else {
      add(par, el('span', 'pv muted', '-'));
    }
    c.push(par);
    c.push(el('span', 'c n', fmtCount(r.compared)));
    c.push(el('span', 'c n', fmtCount(r.mismatched)));
    c.push(el('span', 'c n', mirroredCount(r) === 0 ? '-' : r.candidate_errors + ' (' + fmtPercent(errorRate(r)) + ')'));
    c.push(el('span', 'c n', fmtCount(sum(r.skipped))));
    c.push(el('span', 'c lat', latencyPair(r, 50)));
    c.push(el('span', 'c lat' + (slowerCandidate(r) ? ' slow' : ''), latencyPair(r, 99)));
    var top = el('span', 'c topdiff');
    if (rv.top.length) {
      var d = rv.top[0];
      var dp = code(d.path);
      dp.title = d.path;
      if (d.security) {
        var sb = el('span', 'sec', 'security');
        sb.title = secReason(d.security);
        add(top, sb, ' ');
      }
      add(top, dp, ' ', el('span', 'kind', d.kind), ' ×' + fmtCount(d.count));
    }
    c.push(top);
    return c;
  }

  function exampleValue(s) { return s === '' ? el('span', 'absent', 'absent') : code(oneLine(s)); }
  function bodyNodes(rv) {
    var r = rv.r, out = [];
    out.push(add(el('p', 'why ' + rv.verdict), el('strong', null, routeLabel(rv)), ' · ' + rv.reason));
    if (Object.keys(r.skipped).length) out.push(el('p', 'meta', 'Skipped: ' + summary(r.skipped)));
    if (r.errors && Object.keys(r.errors).length) out.push(el('p', 'meta', 'Candidate transport errors: ' + summary(r.errors)));
    var habits = Object.keys(r.habits || {}).sort();
    if (habits.length) {
      out.push(el('p', 'meta', 'Habits absorbed, not differences: ' + habits.map(function (h) {
        return h + ' ×' + fmtCount(r.habits[h]) + ' (silence with compare: {quiet_habits: [' + yamlScalar(h) + ']})';
      }).join(', ')));
    }
    rv.top.forEach(function (d) {
      var examples = d.examples || [];
      var head = add(el('div', 'dg-h'), code(d.path), ' ', el('span', 'kind', d.kind), ' ',
        el('span', 'muted', '×' + fmtCount(d.count) + (d.examples_dropped ? ', ' + examples.length + ' examples kept' : '')));
      if (d.security) {
        var sb = el('span', 'sec', 'security regression');
        sb.title = d.security;
        add(head, ' ', sb, ' ', el('span', 'sec-why', d.security + ': ' + secReason(d.security)));
      }
      var g = add(el('div', 'dg'), head);
      add(g, el('p', 'meta seen', seenLine(d)));
      if (d.accepted) add(g, el('p', 'meta accepted' + (d.accepted.expired ? ' expired' : ''), d.accepted.note));
      if (examples.length) {
        var tb = el('tbody');
        examples.forEach(function (e) {
          add(tb, add(el('tr'), add(el('td'), code(e.request_id)), add(el('td'), code(e.path)),
            add(el('td'), exampleValue(e.primary)), add(el('td'), exampleValue(e.candidate))));
        });
        var hr = add(el('tr'), el('th', null, 'Request'), el('th', null, 'Path'), el('th', null, 'Primary'), el('th', null, 'Candidate'));
        add(g, add(el('table', 'ex'), add(el('thead'), hr), tb));
      }
      var copy = el('button', 'copy js-only', 'copy');
      copy.type = 'button';
      if (d.reproducer) {
        var rcopy = el('button', 'copy js-only', 'copy');
        rcopy.type = 'button';
        add(g, add(el('div', 'silence repro'), el('span', 'muted', 'Reproduce it:'), ' ', rcopy, el('pre', null, d.reproducer)));
      }
      add(g, add(el('div', 'silence'), el('span', 'muted', 'Silence it, if expected:'), ' ', copy, el('pre', null, silenceYAML(rv.route, d.path))));
      out.push(g);
    });
    if (rv.more > 0) out.push(el('p', 'meta', '… and ' + rv.more + ' more difference paths.'));
    if (r.noise.length) {
      var p = el('p', 'meta', 'Noise (differs between two primaries, left out of parity): ');
      r.noise.forEach(function (n, i) { add(p, i ? ', ' : null, code(n.path), ' ×' + fmtCount(n.count)); });
      out.push(p);
    }
    return out;
  }

  // rows keeps each route's element across refreshes, so an open detail stays
  // open and an unchanged route is not touched.
  var list = $('route-list');
  var rows = new Map();
  list.querySelectorAll('details.rt').forEach(function (d) { rows.set(d.dataset.route, { el: d, sig: null }); });

  function renderRoutes(v) {
    var seen = new Set();
    v.routes.forEach(function (rv, i) {
      var row = rows.get(rv.route);
      if (!row) {
        var d = el('details', 'rt');
        add(d, el('summary'), el('div', 'rd'));
        row = { el: d, sig: null };
        rows.set(rv.route, row);
        list.appendChild(d);
      }
      seen.add(rv.route);
      var sig = JSON.stringify([rv.verdict, rv.reason, rv.step, rv.r], function (k, x) { return k === 'hdr' ? undefined : x; });
      row.el.dataset.order = String(i);
      if (row.sig === sig) return;
      var d2 = row.el, r = rv.r;
      d2.className = 'rt ' + rv.verdict;
      d2.dataset.route = rv.route;
      d2.dataset.verdict = rv.verdict;
      d2.dataset.compared = String(r.compared);
      d2.dataset.mismatched = String(r.mismatched);
      d2.dataset.errors = String(r.candidate_errors);
      d2.dataset.skipped = String(sum(r.skipped));
      d2.dataset.p50 = String(latencyGap(r, 50));
      d2.dataset.p99 = String(latencyGap(r, 99));
      d2.dataset.search = searchText(rv);
      var s = d2.querySelector('summary'), rd = d2.querySelector('.rd');
      s.replaceChildren.apply(s, summaryCells(rv));
      rd.replaceChildren.apply(rd, bodyNodes(rv));
      row.sig = sig;
    });
    rows.forEach(function (row, k) {
      if (!seen.has(k)) { row.el.remove(); rows.delete(k); }
    });
    $('no-routes').hidden = v.routes.length > 0;
    var chips = $('chips').querySelectorAll('b');
    var counts = [v.routes.length, v.fail, v.inc, v.pass];
    chips.forEach(function (b, i) { b.textContent = String(counts[i]); });
  }

  // The noise section, as every renderer words it: per route, each pattern
  // with how often re-asks confirmed it, whether it is learned, and the
  // config that keeps the route's patterns out for good.
  function reasksWord(n) { return n === 1 ? '1 re-ask' : fmtCount(n) + ' re-asks'; }
  function fmtReasks(r) {
    var s = reasksWord(r.reasks || 0) + ' answered';
    if ((r.reask_dropped || 0) > 0) s += ', ' + fmtCount(r.reask_dropped) + ' dropped';
    return s;
  }
  function fmtConfirmed(n) { return !n.reasks ? '-' : fmtCount(n.confirmed) + ' of ' + reasksWord(n.reasks); }
  function routeNoiseYAML(r) {
    if (r.route === 'OTHER' || r.noise.length === 0) return '';
    var paths = r.noise.map(function (n) { return yamlScalar(n.path); }).sort();
    return 'routes:\n  - match: ' + yamlScalar(r.route) + '\n    ignore: [' + paths.join(', ') + ']\n';
  }
  function renderNoise(v) {
    var noisy = v.routes.filter(function (rv) {
      return rv.r.noise.length > 0 || (rv.r.reasks || 0) > 0 || (rv.r.reask_dropped || 0) > 0;
    });
    var box = $('noise-routes');
    box.replaceChildren.apply(box, noisy.map(function (rv) {
      var d = add(el('div', 'nr'), add(el('div', 'nr-h'), code(rv.route), ' ', el('span', 'muted', fmtReasks(rv.r))));
      if (rv.r.noise.length === 0) return d;
      var tb = el('tbody');
      rv.r.noise.forEach(function (n) {
        add(tb, add(el('tr'), add(el('td'), code(n.path)), el('td', 'n', fmtCount(n.count)), el('td', 'n', fmtConfirmed(n)),
          add(el('td'), el('span', 'learned' + (n.learned ? ' yes' : ''), n.learned ? 'learned' : 'not yet'))));
      });
      var th = function (cls, text, title) { var e = el('th', cls, text); e.title = title; return e; };
      var hr = add(el('tr'), el('th', null, 'Path'), el('th', 'n', 'Left out'), th('n', 'Confirmed', 're-asks of a primary that found it differing too'), el('th', null, 'Learned'));
      add(d, add(el('table', 'noise'), add(el('thead'), hr), tb));
      var y = routeNoiseYAML(rv.r);
      if (y) {
        var copy = el('button', 'copy js-only', 'copy');
        copy.type = 'button';
        add(d, add(el('div', 'silence'), el('span', 'muted', 'To make it permanent, in the config:'), ' ', copy, el('pre', null, y)));
      }
      return d;
    }));
    $('no-noise').hidden = noisy.length > 0;
  }

  function renderCut(v) {
    var ul = $('cut-list');
    ul.replaceChildren.apply(ul, v.cut.map(function (c) { return el('li', null, c); }));
    $('cut').hidden = v.cut.length === 0;
  }

  var renders = 0;
  function render(snap) {
    var v = view(snap);
    renderTop(v);
    renderTiles(v);
    renderCharts(snap);
    renderSteps(v);
    renderRoutes(v);
    renderNoise(v);
    renderCut(v);
    $('span').textContent = 'Observed ' + fmtTime(snap.started) + ' … ' + fmtTime(snap.updated) + '.';
    arrange();
    document.body.dataset.renders = String(++renders);
  }

  // ---- Filter and sort ----

  var state = { q: '', v: '', sort: 'worst' };
  var sorts = {
    route: function (a, b) { return cmp(a.dataset.route, b.dataset.route); },
    verdict: function (a, b) { return cmp(severity[b.dataset.verdict], severity[a.dataset.verdict]); },
    compared: function (a, b) { return +b.dataset.compared - +a.dataset.compared; },
    mismatched: function (a, b) { return +b.dataset.mismatched - +a.dataset.mismatched; },
    errors: function (a, b) { return +b.dataset.errors - +a.dataset.errors; },
    skipped: function (a, b) { return +b.dataset.skipped - +a.dataset.skipped; },
    p50: function (a, b) { return +b.dataset.p50 - +a.dataset.p50; },
    p99: function (a, b) { return +b.dataset.p99 - +a.dataset.p99; }
  };
  function arrange() {
    var els = Array.prototype.slice.call(list.children);
    var by = sorts[state.sort];
    var sorted = els.slice().sort(function (a, b) { return (by ? by(a, b) : 0) || (+a.dataset.order - +b.dataset.order); });
    if (sorted.some(function (e, i) { return e !== els[i]; })) {
      var frag = document.createDocumentFragment();
      sorted.forEach(function (e) { frag.appendChild(e); });
      list.appendChild(frag);
    }
    var terms = state.q.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
    sorted.forEach(function (e) {
      var s = e.dataset.search || '';
      var ok = (!state.v || e.dataset.verdict === state.v) && terms.every(function (t) { return s.indexOf(t) >= 0; });
      e.hidden = !ok;
      if (ok) shown++;
    });
    $('shown').textContent = shown === sorted.length ? '' : 'showing ' + shown + ' of ' + sorted.length;
    document.querySelectorAll('.rt-head button').forEach(function (b) { b.classList.toggle('on', b.dataset.sort === state.sort); });
  }
  var filter = $('filter');
  filter.addEventListener('input', function () { state.q = filter.value; arrange(); });
  $('chips').addEventListener('click', function (e) {
    var b = e.target.closest('button');
    if (!b) return;
    state.v = b.dataset.v;
    this.querySelectorAll('button').forEach(function (x) { x.classList.toggle('on', x === b); });
    arrange();
  });
  document.querySelector('.rt-head').addEventListener('click', function (e) {
    var b = e.target.closest('button');
    if (!b) return;
    state.sort = b.dataset.sort;
    arrange();
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === '/' && document.activeElement !== filter && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) {
      e.preventDefault();
      filter.focus();
    } else if (e.key === 'Escape' && document.activeElement === filter) {
      filter.value = '';
      state.q = '';
      arrange();
    }
  });
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('button.copy');
    if (!b) return;
    var text = b.parentNode.querySelector('pre').textContent;
    var done = function () {
      b.textContent = 'copied';
      b.classList.add('done');
      setTimeout(function () { b.textContent = 'copy'; b.classList.remove('done'); }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { select(b); });
    } else {
      select(b);
    }
  });
  function select(b) {
    var range = document.createRange();
    range.selectNodeContents(b.parentNode.querySelector('pre'));
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }
  arrange();

  // The column heads stick under the verdict bar, whatever its height.
  var bar = $('top');
  var barHeight = function () { document.documentElement.style.setProperty('--top-h', bar.offsetHeight + 'px'); };
  barHeight();
  if (window.ResizeObserver) new ResizeObserver(barHeight).observe(bar);

  // ---- Live refresh ----

  var status = $('status');
  var live = cfg.refresh_ms > 0 && location.protocol !== 'file:';
  if (!live) {
    status.className = 'status';
    if (cfg.refresh_ms > 0) status.textContent = 'frozen snapshot of ' + fmtTime(status.textContent.replace(/^.* of /, '')) + ' (opened from a file)';
    return;
  }
  // The interval stretches to five times what a refresh took, so a proxy with
  // many routes spends at most a fifth of its time answering one open page.
  var loaded = false, failures = 0, lastUpdated = '', interval = cfg.refresh_ms;
  function schedule() {
    var wait = failures ? Math.min(interval * Math.pow(2, failures), 60000) : interval;
    setTimeout(tick, wait);
  }
  function tick() {
    var t0 = performance.now();
    fetch('report.json?histograms=0', { cache: 'no-store', headers: { Accept: 'application/json' } }).then(function (res) {
      if (res.status === 404 && !loaded) return null;
      if (!res.ok) throw new Error('report.json: HTTP ' + res.status);
      return res.json();
    }).then(function (snap) {
      if (snap === null) {
        status.className = 'status';
        status.textContent = 'frozen snapshot: no report.json beside this page';
        return;
      }
      if (!snap || snap.version !== 1 || !Array.isArray(snap.routes)) throw new Error('report.json is not a parity snapshot');
      failures = 0;
      loaded = true;
      lastUpdated = snap.updated;
      try {
        render(snap);
      } catch (err) {
        console.error('parity dashboard: render:', err);
      }
      interval = Math.max(cfg.refresh_ms, Math.ceil((performance.now() - t0) * 5));
      status.className = 'status live';
      status.textContent = 'live · updated ' + clock(snap.updated) + ' · every ' + Math.round(interval / 1000) + ' s';
      schedule();
    }).catch(function (err) {
      failures++;
      status.className = 'status stale';
      status.textContent = 'stale · ' + (lastUpdated ? 'last update ' + clock(lastUpdated) : 'no update yet') + ' · ' + err.message + ', retrying';
      schedule();
    });
  }
  status.className = 'status live';
  tick();

  // ---- Autopilot timeline ----

  // The proxy's autopilot (GET /parity/rollout, beside this page, when the
  // server says it runs one): where the rollout stands, its weights and its
  // decisions, newest first.
  var rolloutKinds = { advance: 'pass', done: 'pass', promote: 'pass', resume: 'pass', rollback: 'fail', abort: 'fail', hold: 'inconclusive', pause: 'inconclusive' };
  function renderRollout(st) {
    var sec = $('rollout');
    if (!st || st.mode !== 'autopilot') {
      if (sec) sec.hidden = true;
      return;
    }
    if (!sec) {
      sec = el('section');
      sec.id = 'rollout';
      sec.setAttribute('aria-label', 'Autopilot');
      var before = $('plan') || $('routes');
      before.parentNode.insertBefore(sec, before);
    }
    sec.hidden = false;
    sec.textContent = '';
    add(sec, el('h2', null, 'Autopilot'));
    var stateKind = st.state === 'rolled_back' ? 'fail' : st.state === 'holding' || st.state === 'paused' ? 'inconclusive' : 'pass';
    var head = add(el('p', 'rollout-state'), el('span', 'badge ' + stateKind, st.state.replace('_', ' ')), ' step ' + st.step + ' of ' + st.steps,
      st.step_name ? ' (' + st.step_name + ')' : '', st.since ? ' · at this weight since ' + clock(st.since) : '');
    if (!st.enabled) add(head, el('strong', 'rollout-off', ' · cutover.enabled is false: nothing goes to the candidate'));
    if (st.reason) add(head, el('span', 'muted', ' · gate: ' + oneLine(st.reason)));
    add(sec, head);
    var ws = el('ul', 'rollout-weights');
    sortedKeys(st.weights).forEach(function (p) {
      var w = st.weights[p];
      var li = add(el('li'), code(p), ' ', el('span', 'w', w + '%'));
      var bar = el('span', 'bar');
      add(bar, el('span', 'fill'));
      bar.firstChild.style.width = Math.max(0, Math.min(100, w)) + '%';
      add(ws, add(li, bar));
    });
    add(sec, ws);
    var ol = el('ol', 'timeline');
    (st.events || []).slice(-50).reverse().forEach(function (e) {
      var li = el('li', 'ev ' + (rolloutKinds[e.type] || 'inconclusive'));
      li.setAttribute('data-type', e.type);
      add(li, el('time', null, clock(e.time)), ' ', el('span', 'badge ' + (rolloutKinds[e.type] || 'inconclusive'), e.type),
        ' step ' + e.step + ' · ' + e.from + '% → ' + e.to + '% ', el('span', 'why', oneLine(e.reason || '')));
      add(ol, li);
    });
    add(sec, ol);
  }
  function tickRollout() {
    fetch('rollout', { cache: 'no-store', headers: { Accept: 'application/json' } }).then(function (res) {
      return res.ok ? res.json() : null;
    }).then(function (st) {
      renderRollout(st);
      if (st && st.mode === 'autopilot') setTimeout(tickRollout, interval);
    }).catch(function () { setTimeout(tickRollout, Math.min(interval * 4, 60000)); });
  }
  if (cfg.rollout) tickRollout();
})();
