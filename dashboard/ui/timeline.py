"""The Map page's timeline: events per day, week or month by type, long events as spans, drag to filter.

While the map plays (mapview/playback.py), a band marks the frame's days: the play control announces each
frame on `window` ("reachmap:frame", [first, last] in days since 1970-01-01, or null), no rerun needed.

Drawn in SVG by a few lines of our own script (a Streamlit v2 component, in the page itself: no iframe, no
chart library). The Vega-Lite chart it replaces made the browser load and compile about 1 MB of script on
every first visit, which delayed the map above it by about 0.6 s (benchmarks/map_page.py).

Data reaches the script as JSON and is written into the page only as text (`textContent`, SVG `<title>`):
an event title is never markup or code here.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

_HTML = '<div class="rm-timeline"><div class="spans-title"></div><svg></svg><div class="legend"></div></div>'

_CSS = """
.rm-timeline { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--st-text-color, #222);
               user-select: none; }
.rm-timeline svg { display: block; width: 100%; cursor: crosshair; }
.rm-timeline .axis { fill: currentColor; opacity: .75; }
.rm-timeline .grid { stroke: currentColor; opacity: .12; }
.rm-timeline .brush { fill: #1f6feb; opacity: .18; stroke: #1f6feb; }
.rm-timeline .frame { fill: #b71c1c; opacity: .16; stroke: #b71c1c; pointer-events: none; }
.rm-timeline .spans-title { font-size: 11px; opacity: .75; }
.rm-timeline .legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-top: 4px; }
.rm-timeline .legend span::before { content: ""; display: inline-block; width: 10px; height: 10px;
                                    margin-right: 5px; border-radius: 2px; background: var(--c); }
"""

_JS = r"""
const NS = "http://www.w3.org/2000/svg";
const DAY = 86400000;
const MONTHS = ["Jan","Feb","Mar","Apr","May","Jun","Jul","Aug","Sep","Oct","Nov","Dec"];

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}
function titled(e, text) { const t = el("title", {}, e); t.textContent = text; return e; }
function iso(ms) { return new Date(ms).toISOString().slice(0, 10); }
function label(ms, unit) {
  const d = new Date(ms);
  if (unit === "year") return String(d.getUTCFullYear());
  if (unit === "month") return MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear();
  return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()];
}
function nextBucket(ms, bucket) {
  if (bucket === "day") return ms + DAY;
  if (bucket === "week") return ms + 7 * DAY;
  const d = new Date(ms); return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
function ticks(lo, hi) {  // about eight ticks at whole days, months or years
  const days = (hi - lo) / DAY, out = [];
  if (days <= 62) {
    const step = Math.max(1, Math.ceil(days / 8));
    for (let t = lo; t < hi; t += step * DAY) out.push([t, "day"]);
  } else if (days <= 1500) {
    const step = Math.max(1, Math.ceil(days / 30.4 / 8)), d = new Date(lo);
    for (let t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + (d.getUTCDate() > 1 ? 1 : 0), 1); t < hi;) {
      out.push([t, "month"]); const m = new Date(t); t = Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + step, 1);
    }
  } else {
    const step = Math.max(1, Math.ceil(days / 365.25 / 8)), d = new Date(lo);
    for (let y = d.getUTCFullYear() + (d.getUTCMonth() || d.getUTCDate() > 1 ? 1 : 0); Date.UTC(y, 0, 1) < hi; y += step)
      out.push([Date.UTC(y, 0, 1), "year"]);
  }
  return out;
}

function draw(root, data, setTriggerValue) {
  const svg = root.querySelector("svg"), legend = root.querySelector(".legend");
  const spansTitle = root.querySelector(".spans-title");
  svg.replaceChildren(); legend.replaceChildren();
  const width = Math.max(root.querySelector(".rm-timeline").clientWidth || 600, 200);
  const [lo, hi] = data.domain, left = 34, right = 8, plotW = width - left - right;
  const spanRows = data.spans.length, spanH = spanRows ? Math.min(6 * spanRows, 90) : 0;
  const top = spanRows ? spanH + 6 : 4, barsH = 180, height = top + barsH + 22;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`); svg.setAttribute("height", height);
  spansTitle.textContent = spanRows ? "Events longer than one bar (clipped to the window)" : "";
  const x = ms => left + (Math.min(Math.max(ms, lo), hi) - lo) / (hi - lo) * plotW;
  // Stack the bars of one bucket start by type, in the legend's order.
  const stacks = new Map();
  for (const [start, type, n] of data.bars) {
    if (!stacks.has(start)) stacks.set(start, []);
    stacks.get(start).push([type, n]);
  }
  let most = 1;
  for (const parts of stacks.values()) most = Math.max(most, parts.reduce((s, p) => s + p[1], 0));
  const y = n => top + barsH - n / most * barsH;
  const step = most <= 5 ? 1 : Math.ceil(most / 4);
  for (let v = 0; v <= most; v += step) {
    el("line", {class: "grid", x1: left, x2: width - right, y1: y(v), y2: y(v)}, svg);
    el("text", {class: "axis", x: left - 4, y: y(v) + 4, "text-anchor": "end"}, svg).textContent = String(v);
  }
  for (const [t, unit] of ticks(lo, hi)) {
    el("line", {class: "grid", x1: x(t), x2: x(t), y1: top + barsH, y2: top + barsH + 4}, svg);
    el("text", {class: "axis", x: x(t), y: height - 4, "text-anchor": "middle"}, svg)
      .textContent = label(t, data.long ? "year" : unit);
  }
  for (const [start, parts] of stacks) {
    let base = 0;
    const x0 = x(start), x1 = Math.max(x(nextBucket(start, data.bucket)) - 1, x0 + 1);
    parts.sort((a, b) => a[0] - b[0]);
    for (const [type, n] of parts) {
      const r = el("rect", {x: x0, width: x1 - x0, y: y(base + n), height: y(base) - y(base + n),
                            fill: data.colours[type], class: "bar", "data-events": n}, svg);
      titled(r, `${data.bucket} of ${iso(start)} · ${data.types[type]}: ${n}`);
      base += n;
    }
  }
  data.spans.forEach(([from, to, type, title, start, end], i) => {
    const l = el("line", {x1: x(from), x2: Math.max(x(to), x(from) + 2), y1: 3 + i * (spanH - 3) / Math.max(spanRows, 1),
                          y2: 3 + i * (spanH - 3) / Math.max(spanRows, 1), stroke: data.colours[type],
                          "stroke-width": 3, class: "span"}, svg);
    titled(l, `${title} · ${data.types[type]} · ${iso(start)} to ${iso(end)}`);
  });
  data.types.forEach((name, i) => {
    const s = document.createElement("span"); s.textContent = name; s.style.setProperty("--c", data.colours[i]);
    legend.appendChild(s);
  });
  // Drag across the chart: the days under the drag become the date filter.
  const brush = el("rect", {class: "brush", y: 0, height: top + barsH, x: 0, width: 0, visibility: "hidden"}, svg);
  const toMs = px => lo + (Math.min(Math.max(px, left), left + plotW) - left) / plotW * (hi - lo);
  const pointer = ev => { const b = svg.getBoundingClientRect(); return (ev.clientX - b.left) * width / b.width; };
  let from = null;
  svg.onpointerdown = ev => { from = pointer(ev); svg.setPointerCapture(ev.pointerId);
                              brush.setAttribute("x", from); brush.setAttribute("width", 0);
                              brush.setAttribute("visibility", "visible"); };
  svg.onpointermove = ev => { if (from === null) return; const at = pointer(ev);
                              brush.setAttribute("x", Math.min(from, at)); brush.setAttribute("width", Math.abs(at - from)); };
  svg.onpointerup = ev => {
    if (from === null) return;
    const at = pointer(ev), a = toMs(Math.min(from, at)), b = toMs(Math.max(from, at));
    from = null;
    if (Math.abs(x(b) - x(a)) < 3) { brush.setAttribute("visibility", "hidden"); return; }  // a click, not a drag
    const first = Math.floor(a / DAY) * DAY, last = Math.max(first, Math.ceil(b / DAY) * DAY - DAY);
    setTriggerValue("span", [iso(first), iso(last)]);
  };
  // The play control's frame (mapview/playback.py announces each one): a band over its days.
  const frame = el("rect", {class: "frame", y: 0, height: top + barsH, x: 0, width: 0, visibility: "hidden"}, svg);
  root.__showFrame = days => {
    if (!days) { frame.setAttribute("visibility", "hidden"); return; }
    const a = x(days[0] * DAY), b = x((days[1] + 1) * DAY);
    frame.setAttribute("x", a); frame.setAttribute("width", Math.max(b - a, 2)); frame.setAttribute("visibility", "visible");
  };
  if (window.__reachmapFrame !== undefined) root.__showFrame(window.__reachmapFrame);
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement;
  draw(root, data, setTriggerValue);
  const box = root.querySelector(".rm-timeline");
  const observer = new ResizeObserver(() => draw(root, data, setTriggerValue));
  observer.observe(box);
  const onFrame = e => root.__showFrame && root.__showFrame(e.detail);
  window.addEventListener("reachmap:frame", onFrame);
  return () => { observer.disconnect(); window.removeEventListener("reachmap:frame", onFrame); };
}
"""

_COMPONENT = st.components.v2.component("reachmap_timeline", html=_HTML, css=_CSS, js=_JS)


def _ms(day: date) -> int:
    return (day - date(1970, 1, 1)).days * 86_400_000


def timeline_chart(bars: list[tuple[date, str, int]], spans: list[tuple[date, date, str, str, date, date]],
                   types: list[str], colours: list[str], window: tuple[date, date], bucket: str,
                   key: str = "timeline") -> tuple[date, date] | None:
    """Draw the timeline; the days the user dragged across, in the run that follows the drag, else None.

    `bars`: (bucket start, type, events); `spans`: (from, to (exclusive), type, title, start, end) of long
    events, already clipped to `window` (first day, last day).
    """
    index = {t: i for i, t in enumerate(types)}
    lo, hi = window
    data = {
        "bars": [[_ms(d), index[t], n] for d, t, n in bars],
        "spans": [[_ms(f), _ms(t), index[ty], title, _ms(s), _ms(e)] for f, t, ty, title, s, e in spans],
        "types": types, "colours": colours, "bucket": bucket,
        "domain": [_ms(lo), _ms(hi) + 86_400_000], "long": (hi - lo).days >= 1500,
    }
    result = _COMPONENT(data=data, key=key, on_span_change=lambda: None)
    span = getattr(result, "span", None)
    if not span or len(span) != 2:
        return None
    try:
        first, last = date.fromisoformat(str(span[0])[:10]), date.fromisoformat(str(span[1])[:10])
    except ValueError:
        return None
    return (first, last) if first <= last else (last, first)
