// Charts drawn in the page as inline SVG (no library, no CDN): a line per sensor over
// time, and a share-compliant line per provision over days.
const NS = 'http://www.w3.org/2000/svg';
const s = (tag, attrs = {}, ...kids) => {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
};
const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(2));
const hhmm = (t) => new Date(t).toISOString().replace('T', ' ').slice(5, 16);

/** One sensor's readings (mean line over a min-max band) against time. */
export function sensorChart(series, from, to) {
  const W = 360,
    H = 140,
    L = 44,
    R = 8,
    T = 18,
    B = 20;
  const t0 = Date.parse(from),
    t1 = Date.parse(to);
  const lo = Math.min(...series.points.map((p) => p.min)),
    hi = Math.max(...series.points.map((p) => p.max));
  const x = (t) => L + (t1 === t0 ? 0.5 : (Date.parse(t) - t0) / (t1 - t0)) * (W - L - R);
  const y = (v) => H - B - (hi === lo ? 0.5 : (v - lo) / (hi - lo)) * (H - T - B);
  const line = series.points.map((p) => `${x(p.t).toFixed(1)},${y(p.avg).toFixed(1)}`).join(' ');
  const band =
    series.points.map((p) => `${x(p.t).toFixed(1)},${y(p.max).toFixed(1)}`).join(' ') +
    ' ' +
    [...series.points]
      .reverse()
      .map((p) => `${x(p.t).toFixed(1)},${y(p.min).toFixed(1)}`)
      .join(' ');
  const n = series.points.reduce((a, p) => a + p.n, 0);
  return s(
    'svg',
    {
      viewBox: `0 0 ${W} ${H}`,
      width: W,
      height: H,
      class: 'chart',
      'data-sensor': series.sensorId,
      'data-readings': n,
      'data-points': series.points.length,
    },
    s('title', {}, `${series.sensorId}: ${n} readings, ${fmt(lo)} to ${fmt(hi)} ${series.unit}`),
    s('text', { x: L, y: 12, class: 'chart-title' }, `${series.sensorId} (${series.unit})`),
    s('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }),
    s('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }),
    s('text', { x: L - 4, y: T + 4, class: 'tick', 'text-anchor': 'end' }, fmt(hi)),
    s('text', { x: L - 4, y: H - B, class: 'tick', 'text-anchor': 'end' }, fmt(lo)),
    s('text', { x: L, y: H - 4, class: 'tick' }, hhmm(from)),
    s('text', { x: W - R, y: H - 4, class: 'tick', 'text-anchor': 'end' }, hhmm(to)),
    s('polygon', { points: band, class: 'band' }),
    s('polyline', { points: line, class: 'mean' }),
  );
}

/** A provision's share of gateways compliant per day (0-100 %), a dot per assessed day. */
export function shareChart(days, shares) {
  const W = 260,
    H = 36,
    P = 4;
  const x = (i) => P + (days.length === 1 ? 0.5 : i / (days.length - 1)) * (W - 2 * P);
  const y = (v) => H - P - v * (H - 2 * P);
  const pts = shares.map((v, i) => (v === null ? null : [x(i), y(v)]));
  const line = pts
    .filter(Boolean)
    .map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`)
    .join(' ');
  const dots = shares.flatMap((v, i) =>
    v === null
      ? []
      : [
          s(
            'circle',
            { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2.5, 'data-day': days[i], 'data-share': v },
            s('title', {}, `${days[i]}: ${Math.round(v * 100)} %`),
          ),
        ],
  );
  return s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'spark' },
    s('line', { x1: P, y1: y(1), x2: W - P, y2: y(1), class: 'grid' }),
    s('line', { x1: P, y1: y(0), x2: W - P, y2: y(0), class: 'grid' }),
    s('polyline', { points: line, class: 'mean' }),
    ...dots,
  );
}
