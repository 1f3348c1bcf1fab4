// The series page's script (runs in the browser; embedded in the site as assets/pond-site.js).
// Reads the manifest in window.POND_SERIES, draws one uPlot chart per column, and keeps
// the data at the level of detail the visible range needs: the finest level (raw rows
// first, then reductions from fine to coarse) that shows at most MAX_POINTS points
// across the range. Data chunks are <script> files (file:// pages may not fetch()).
// Zoom: drag across a chart, or the mouse wheel; pan: shift+drag, or the arrow buttons;
// double-click or "All" shows everything. Hovering shows the values in the legend.
(() => {
  const M = window.POND_SERIES;
  const MAX_POINTS = 2000;
  const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
  const chunks = new Map(); // key → decoded {t: Float64Array (s), f: arrays}
  const waiting = new Map(); // key → [resolve, reject]
  const state = { level: null, range: [M.start / 1000, M.end / 1000], charts: [], points: 0, loads: 0, firstChartMs: null, errors: [] };
  window.pondSite = state;

  window.pondChunk = (key, p) => {
    const t = new Float64Array(p.t.length);
    let acc = 0;
    for (let i = 0; i < p.t.length; i++) {
      acc = i === 0 ? p.t[0] : acc + p.t[i];
      t[i] = (acc * p.u) / 1000;
    }
    chunks.set(key, { t, f: p.f });
    const w = waiting.get(key);
    if (w) {
      waiting.delete(key);
      w[0]();
    }
  };

  function loadChunk(level, i) {
    const key = `${M.slug}/${level.id}/${i}`;
    if (chunks.has(key)) return Promise.resolve(chunks.get(key));
    return new Promise((resolve, reject) => {
      waiting.set(key, [() => resolve(chunks.get(key)), reject]);
      const s = document.createElement("script");
      s.src = `../data/${encodeURIComponent(M.slug)}/${encodeURIComponent(level.id)}-${i}.js`;
      s.onerror = () => reject(new Error(`cannot load ${s.src}`));
      document.head.appendChild(s);
      state.loads++;
    });
  }

  // Points of `level` between a and b (seconds), from its chunks' row counts.
  function estimate(level, a, b) {
    let n = 0;
    for (const c of level.chunks) {
      const lo = Math.max(a * 1000, c.t0);
      const hi = Math.min(b * 1000, c.t1);
      if (hi < lo) continue;
      n += c.t1 > c.t0 ? (c.rows * (hi - lo)) / (c.t1 - c.t0) : c.rows;
    }
    return n;
  }

  function chooseLevel(a, b) {
    for (const l of M.levels) if (estimate(l, a, b) <= MAX_POINTS) return l;
    return M.levels[M.levels.length - 1];
  }

  // The chunks of `level` overlapping [a, b] widened by half the span each side (so a short pan needs no load).
  function chunksFor(level, a, b) {
    const w = (b - a) / 2;
    const out = [];
    level.chunks.forEach((c, i) => {
      if (c.t1 >= (a - w) * 1000 && c.t0 <= (b + w) * 1000) out.push(i);
    });
    return out;
  }

  function concat(parts, pick) {
    let n = 0;
    for (const p of parts) n += pick(p).length;
    const out = new Array(n);
    let o = 0;
    for (const p of parts) {
      const a = pick(p);
      for (let i = 0; i < a.length; i++) out[o++] = a[i];
    }
    return out;
  }

  function chartData(level, parts, ci) {
    const c = level.charts[ci];
    const t = concat(parts, (p) => p.t);
    const data = [t, concat(parts, (p) => p.f[c.value])];
    if (M.bands[ci]) {
      data.push(c.min === undefined ? new Array(t.length).fill(null) : concat(parts, (p) => p.f[c.min]));
      data.push(c.max === undefined ? new Array(t.length).fill(null) : concat(parts, (p) => p.f[c.max]));
    }
    return data;
  }

  function fmt(v, unit) {
    if (v == null) return "–";
    const s = Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : String(Number(v.toPrecision(6)));
    return unit ? `${s} ${unit}` : s;
  }

  let syncing = false;
  function setRange(a, b, from) {
    const lo = M.start / 1000;
    const hi = M.end / 1000;
    const span = Math.max(b - a, 1);
    if (span >= hi - lo) {
      a = lo;
      b = hi;
    } else {
      if (a < lo) [a, b] = [lo, lo + span];
      if (b > hi) [a, b] = [hi - span, hi];
    }
    state.range = [a, b];
    syncing = true;
    for (const u of state.charts) if (u !== from) u.setScale("x", { min: a, max: b });
    syncing = false;
    scheduleRefresh();
  }

  let timer = null;
  let generation = 0;
  function scheduleRefresh() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 60);
  }

  async function refresh() {
    const gen = ++generation;
    const [a, b] = state.range;
    const level = chooseLevel(a, b);
    const idx = chunksFor(level, a, b);
    let parts;
    try {
      parts = await Promise.all(idx.map((i) => loadChunk(level, i)));
    } catch (e) {
      state.errors.push(String(e));
      console.error(e);
      return;
    }
    if (gen !== generation) return;
    state.level = level.id;
    state.points = parts.reduce((n, p) => n + p.t.length, 0);
    syncing = true;
    state.charts.forEach((u, ci) => {
      u.setData(chartData(level, parts, ci), false);
      u.setScale("x", { min: a, max: b });
    });
    syncing = false;
    showStatus();
  }

  function showStatus() {
    const el = document.getElementById("status");
    const lvl = M.levels.find((l) => l.id === state.level);
    const res = lvl.id === "raw" ? "raw rows" : `${lvl.id} ${M.bands.some((x) => x) ? "averages (band: min–max)" : "reduction"}`;
    const f = (s) => new Date(s * 1000).toISOString().replace("T", " ").replace(/:00\.000Z$|\.000Z$/, "Z");
    const t = state.charts.length ? state.charts[0].data[0] : [];
    let inView = 0;
    for (let i = 0; i < t.length; i++) if (t[i] >= state.range[0] && t[i] <= state.range[1]) inView++;
    el.textContent = `${f(state.range[0])} – ${f(state.range[1])} · ${res} · ${inView} points in view`;
    el.dataset.level = state.level;
    el.dataset.points = String(state.points);
  }

  function makeChart(el, ci, data, width) {
    const col = M.charts[ci];
    const color = COLORS[ci % COLORS.length];
    const series = [{}, { label: col.column, stroke: color, width: 1.5, value: (u, v) => fmt(v, col.unit), spanGaps: false }];
    const bands = [];
    if (M.bands[ci]) {
      series.push({ label: "min", stroke: `${color}55`, width: 1, value: (u, v) => fmt(v, col.unit) });
      series.push({ label: "max", stroke: `${color}55`, width: 1, value: (u, v) => fmt(v, col.unit) });
      bands.push({ series: [3, 2], fill: `${color}22` });
    }
    let panFrom = null;
    const opts = {
      width,
      height: 260,
      title: col.unit ? `${col.column} (${col.unit})` : col.column,
      scales: { x: { time: true } },
      // Axis labels in UTC, as the pond stores times, whatever the viewer's time zone.
      // (Shifting by the local offset: uPlot.tzDate builds an Intl formatter per call, slow.)
      tzDate: (ts) => {
        const d = new Date(ts * 1000);
        return new Date(d.getTime() + d.getTimezoneOffset() * 60000);
      },
      series,
      bands,
      axes: [{}, { size: 60, values: (u, vals) => vals.map((v) => fmt(v)) }],
      cursor: {
        sync: { key: `pond-${M.slug}` },
        drag: { x: true, y: false },
        bind: {
          dblclick: () => () => {
            setRange(M.start / 1000, M.end / 1000, null);
            return null;
          },
          mousedown: (u, targ, handler) => (e) => {
            if (!e.shiftKey) return handler(e);
            panFrom = { x: e.clientX, range: state.range.slice() };
            const move = (ev) => {
              const dx = ev.clientX - panFrom.x;
              const span = panFrom.range[1] - panFrom.range[0];
              const shift = (-dx / u.over.clientWidth) * span;
              setRange(panFrom.range[0] + shift, panFrom.range[1] + shift, null);
            };
            const up = () => {
              document.removeEventListener("mousemove", move);
              document.removeEventListener("mouseup", up);
            };
            document.addEventListener("mousemove", move);
            document.addEventListener("mouseup", up);
            return null;
          },
        },
      },
      hooks: {
        setScale: [
          (u, key) => {
            if (key !== "x" || syncing) return;
            setRange(u.scales.x.min, u.scales.x.max, u);
          },
        ],
      },
    };
    const u = new uPlot(opts, data, el);
    u.over.addEventListener(
      "wheel",
      (e) => {
        e.preventDefault();
        const [a, b] = state.range;
        const at = u.posToVal(e.offsetX, "x");
        const k = e.deltaY < 0 ? 0.75 : 1 / 0.75;
        setRange(at - (at - a) * k, at + (b - at) * k, null);
      },
      { passive: false },
    );
    return u;
  }

  function zoom(k) {
    const [a, b] = state.range;
    const mid = (a + b) / 2;
    setRange(mid - ((b - a) / 2) * k, mid + ((b - a) / 2) * k, null);
  }

  function pan(f) {
    const [a, b] = state.range;
    setRange(a + (b - a) * f, b + (b - a) * f, null);
  }

  async function start() {
    const box = document.getElementById("charts");
    if (M.start === null) {
      box.textContent = "This series has no rows.";
      return;
    }
    const [a, b] = state.range;
    const level = chooseLevel(a, b);
    const idx = chunksFor(level, a, b);
    performance.mark("pond-start");
    const parts = await Promise.all(idx.map((i) => loadChunk(level, i)));
    performance.mark("pond-data");
    state.level = level.id;
    state.points = parts.reduce((n, p) => n + p.t.length, 0);
    const width = Math.max(320, box.clientWidth);
    const addChart = (ci) => {
      const el = document.createElement("div");
      el.className = "chart";
      el.dataset.column = M.charts[ci].column;
      box.appendChild(el);
      // Creating a chart sets its x scale: not a user's zoom.
      syncing = true;
      state.charts.push(makeChart(el, ci, chartData(level, parts, ci), width));
      syncing = false;
    };
    // The first chart goes on screen before the others are built (each costs a few ms of
    // layout and drawing); the rest follow in the next frame.
    addChart(0);
    await new Promise((resolve) =>
      requestAnimationFrame(() => {
        state.firstChartMs = performance.now();
        setTimeout(resolve, 0);
      }),
    );
    for (let ci = 1; ci < M.charts.length; ci++) addChart(ci);
    performance.mark("pond-charts");
    showStatus();
    const on = (id, f) => document.getElementById(id).addEventListener("click", f);
    on("zoom-in", () => zoom(0.5));
    on("zoom-out", () => zoom(2));
    on("pan-left", () => pan(-0.5));
    on("pan-right", () => pan(0.5));
    on("zoom-all", () => setRange(M.start / 1000, M.end / 1000, null));
    window.addEventListener("resize", () => {
      const w = Math.max(320, box.clientWidth);
      for (const u of state.charts) u.setSize({ width: w, height: 260 });
    });
    // Tests and the benchmark set a range with this and wait for state.level to change.
    state.setRange = (a2, b2) => setRange(a2, b2, null);
    state.ready = true;
  }

  // After the page is parsed: the default view's chunk scripts, listed after this one in
  // the page, have run by then (no round trip to load them).
  document.addEventListener("DOMContentLoaded", () =>
    start().catch((e) => {
      state.errors.push(String(e));
      console.error(e);
    }),
  );
})();
