/// The stylesheet and script, embedded in the binary: the dashboard fetches nothing from outside.
enum Assets {
    static let css = #"""
    :root { --bg:#0f1419; --panel:#171e26; --line:#263140; --text:#dfe6ee; --muted:#8b98a8; --accent:#5cc8a8;
            --warn:#e0b050; --bad:#e06c6c; --band:rgba(92,200,168,.22); --font: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
    @media (prefers-color-scheme: light) {
      :root { --bg:#f5f7fa; --panel:#ffffff; --line:#dde3ea; --text:#1b2530; --muted:#5d6b7a; --accent:#16876a;
              --warn:#a86b00; --bad:#c03030; --band:rgba(22,135,106,.18); }
    }
    * { box-sizing: border-box; }
    body { margin:0; background:var(--bg); color:var(--text); font:15px/1.45 var(--font); }
    header { display:flex; flex-wrap:wrap; align-items:center; gap:.5rem 1.5rem; padding:.7rem 1.2rem;
             border-bottom:1px solid var(--line); background:var(--panel); position:sticky; top:0; z-index:2; }
    .brand { font-weight:600; letter-spacing:.02em; }
    .logo { color:var(--accent); }
    .node { color:var(--muted); font-weight:400; margin-left:.4rem; }
    .role { font-size:.75rem; color:var(--accent); border:1px solid var(--accent); border-radius:1rem; padding:0 .5rem; margin-left:.3rem; }
    nav { display:flex; flex-wrap:wrap; gap:.2rem; }
    nav a { color:var(--muted); text-decoration:none; padding:.3rem .7rem; border-radius:.4rem; }
    nav a:hover { color:var(--text); background:var(--line); }
    nav a[aria-current] { color:var(--text); background:var(--line); }
    .logout { margin-left:auto; } .logout button { background:none; border:1px solid var(--line); color:var(--muted); border-radius:.4rem; padding:.25rem .6rem; cursor:pointer; }
    main { max-width:1200px; margin:0 auto; padding:1.2rem; }
    footer { text-align:center; color:var(--muted); font-size:.8rem; padding:1.5rem; }
    h1 { font-size:1.35rem; margin:.2rem 0 1rem; font-weight:600; }
    h2 { font-size:1.05rem; margin:0 0 .6rem; font-weight:600; }
    a { color:var(--accent); }
    .grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(340px, 1fr)); gap:1rem; }
    .grid.split { grid-template-columns:minmax(0, 3fr) minmax(0, 2fr); }
    .scroll { overflow-x:auto; }
    .cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(170px, 1fr)); gap:.8rem; margin-bottom:1.2rem; }
    .card, .panel { background:var(--panel); border:1px solid var(--line); border-radius:.7rem; padding:.9rem 1rem; }
    .card .label { color:var(--muted); font-size:.8rem; text-transform:uppercase; letter-spacing:.05em; }
    .card .value { font-size:1.5rem; font-weight:600; margin-top:.15rem; font-variant-numeric:tabular-nums; }
    .card .value.name { font-size:1.15rem; overflow-wrap:anywhere; }
    .card .value a { color:inherit; text-decoration:none; }
    .card .sub { color:var(--muted); font-size:.85rem; }
    .badge { display:inline-block; font-size:.75rem; font-weight:600; padding:.05rem .55rem; border-radius:1rem; border:1px solid currentColor; }
    .ok, .online, .synced { color:var(--accent); } .stale, .unsynced { color:var(--warn); } .faulty, .offline, .bad { color:var(--bad); }
    table { width:100%; border-collapse:collapse; }
    th, td { text-align:left; padding:.45rem .5rem; border-bottom:1px solid var(--line); vertical-align:top; }
    th { color:var(--muted); font-weight:500; font-size:.8rem; text-transform:uppercase; letter-spacing:.04em; }
    td.num { font-variant-numeric:tabular-nums; white-space:nowrap; }
    .muted { color:var(--muted); }
    .sensor-head { display:flex; justify-content:space-between; align-items:baseline; gap:.5rem; }
    .sensor-head .now { font-size:1.4rem; font-weight:600; font-variant-numeric:tabular-nums; white-space:nowrap; }
    .chart { width:100%; height:auto; display:block; margin-top:.4rem; }
    .chart .band { fill:var(--band); stroke:none; }
    .chart .mean { fill:none; stroke:var(--accent); stroke-width:1.6; vector-effect:non-scaling-stroke; }
    .chart .grid line { stroke:var(--line); stroke-width:1; vector-effect:non-scaling-stroke; }
    .chart text { fill:var(--muted); font:11px var(--font); }
    .chart .on { fill:var(--accent); }
    .chart .strip-bg { fill:var(--line); opacity:.5; }
    .ranges { display:flex; gap:.3rem; margin-bottom:1rem; }
    .ranges a { padding:.3rem .8rem; border:1px solid var(--line); border-radius:.4rem; text-decoration:none; color:var(--muted); }
    .ranges a[aria-current] { color:var(--text); border-color:var(--accent); }
    form.filters { display:flex; flex-wrap:wrap; gap:.5rem; margin-bottom:1rem; align-items:end; }
    form.filters label { display:flex; flex-direction:column; font-size:.8rem; color:var(--muted); gap:.2rem; }
    input, select, button { font:inherit; color:var(--text); background:var(--bg); border:1px solid var(--line); border-radius:.4rem; padding:.35rem .55rem; }
    button { cursor:pointer; background:var(--line); }
    .timeline { list-style:none; margin:0; padding:0; }
    .timeline li { display:grid; grid-template-columns:15rem minmax(0, 1fr); gap:.2rem .8rem; padding:.5rem .2rem; border-bottom:1px solid var(--line); }
    .timeline.compact li { grid-template-columns:minmax(0, 1fr); }
    .timeline .meta { display:flex; flex-wrap:wrap; gap:0 .6rem; align-items:baseline; }
    .timeline .text { overflow-wrap:anywhere; }
    .timeline li.new { animation:flash 2s ease-out; }
    @keyframes flash { from { background:var(--band); } to { background:transparent; } }
    .timeline time { color:var(--muted); font-variant-numeric:tabular-nums; font-size:.9rem; }
    .timeline .stream { font-size:.8rem; color:var(--muted); }
    .live { font-size:.8rem; color:var(--muted); } .live.on::before { content:"● "; color:var(--accent); }
    .empty { color:var(--muted); padding:2rem 1rem; text-align:center; border:1px dashed var(--line); border-radius:.7rem; }
    pre.thoughts { white-space:pre-wrap; min-height:6rem; background:var(--panel); border:1px solid var(--line); border-radius:.7rem; padding:1rem; }
    .nodecards { display:grid; grid-template-columns:repeat(auto-fill, minmax(280px, 1fr)); gap:.8rem; margin-bottom:1.2rem; }
    .nodecard .sub { margin-top:.2rem; } .nodecard .latest { margin:.5rem 0 0; font-size:.9rem; overflow-wrap:anywhere; }
    .spark { display:flex; align-items:center; justify-content:space-between; gap:.5rem; font-size:.8rem; margin-top:.3rem; }
    .sparkline { width:120px; height:24px; flex:none; } .sparkline path { fill:none; stroke:var(--accent); stroke-width:1.4; vector-effect:non-scaling-stroke; }
    .chart .line { fill:none; stroke-width:1.6; vector-effect:non-scaling-stroke; }
    .c0 { stroke:#5cc8a8; background:#5cc8a8; } .c1 { stroke:#e0b050; background:#e0b050; } .c2 { stroke:#6ca0e0; background:#6ca0e0; }
    .c3 { stroke:#e06c6c; background:#e06c6c; } .c4 { stroke:#b07ce0; background:#b07ce0; } .c5 { stroke:#8bc34a; background:#8bc34a; }
    .c6 { stroke:#e08cc0; background:#e08cc0; } .c7 { stroke:#a0a8b0; background:#a0a8b0; }
    .legend { list-style:none; padding:0; margin:.6rem 0 0; display:flex; flex-wrap:wrap; gap:.3rem 1.2rem; font-size:.85rem; }
    .swatch { display:inline-block; width:.9rem; height:.25rem; border-radius:.2rem; margin-right:.4rem; vertical-align:middle; }
    .observations li.unusual { border-left:3px solid var(--warn); padding-left:.5rem; }
    .memory { margin-bottom:.8rem; } .memory .text { margin:.4rem 0; overflow-wrap:anywhere; } .memory summary { cursor:pointer; color:var(--muted); }
    .answer .text { font-size:1.1rem; white-space:pre-wrap; } form.ask input[type=text] { min-width:min(36rem, 80vw); }
    .login { max-width:360px; margin:3rem auto; display:flex; flex-direction:column; gap:.7rem; }
    @media (max-width: 640px) {
      main { padding:.7rem; } .grid, .grid.split { grid-template-columns:minmax(0, 1fr); }
      .timeline li { grid-template-columns:1fr; gap:.1rem; }
      header { padding:.5rem .7rem; }
    }
    """#

    /// Local times, live log entries over SSE (EventSource reconnects by itself and resends the
    /// last id), the thought stream. Text is inserted with textContent, never as markup.
    static let javascript = #"""
    "use strict";
    (function () {
      function fmt(ms) {
        const d = new Date(ms);
        return d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
      }
      function localTimes(root) {
        root.querySelectorAll("time[data-ms]").forEach(function (el) { el.textContent = fmt(Number(el.dataset.ms)); });
      }
      localTimes(document);
      const live = document.querySelector("[data-live-log]");
      if (live && window.EventSource) {
        const list = live.querySelector("ol");
        const status = document.querySelector(".live");
        const stream = live.dataset.stream || "";
        const subject = live.dataset.subject || "";
        const q = (live.dataset.q || "").toLowerCase();
        const after = (live.dataset.after || "").replace(/[^0-9]/g, "");
        const source = new EventSource("/api/v1/live/log" + (after ? "?after=" + after : ""));
        source.onopen = function () { if (status) { status.classList.add("on"); status.textContent = "live"; } };
        source.onerror = function () { if (status) { status.classList.remove("on"); status.textContent = "reconnecting…"; } };
        source.addEventListener("log", function (message) {
          let entry;
          try { entry = JSON.parse(message.data); } catch (e) { return; }
          if (stream && entry.stream !== stream) return;
          if (subject && entry.subject !== subject) return;
          if (q && (entry.message + " " + entry.subject).toLowerCase().indexOf(q) < 0) return;
          if (list.querySelector('li[data-hlc="' + String(entry.hlc).replace(/[^0-9.]/g, "") + '"]')) return;
          const li = document.createElement("li");
          li.className = "new";
          li.dataset.hlc = String(entry.hlc);
          const meta = document.createElement("div");
          meta.className = "meta";
          const time = document.createElement("time");
          time.textContent = fmt(entry.time) + (entry.clockQuality === "unsynced" ? " ~" : "");
          const kind = document.createElement("span");
          kind.className = "stream";
          kind.textContent = entry.stream + " · " + entry.type;
          meta.appendChild(time); meta.appendChild(kind);
          const text = document.createElement("div");
          text.className = "text";
          const b = document.createElement("strong");
          b.textContent = entry.subject;
          text.appendChild(b);
          text.appendChild(document.createTextNode(" " + entry.message));
          li.appendChild(meta); li.appendChild(text);
          list.insertBefore(li, list.firstChild);
          const empty = live.querySelector(".empty");
          if (empty) empty.remove();
        });
      }
      const arrivals = document.querySelector("[data-live-observations]");
      if (arrivals && window.EventSource) {
        const list = arrivals.querySelector("ol");
        const status = document.querySelector(".live");
        const node = arrivals.dataset.node || "";
        const kind = arrivals.dataset.kind || "";
        const after = (arrivals.dataset.after || "").replace(/[^0-9]/g, "");
        const source = new EventSource("/api/v1/live/observations" + (after ? "?after=" + after : ""));
        source.onopen = function () { if (status) { status.classList.add("on"); status.textContent = "live"; } };
        source.onerror = function () { if (status) { status.classList.remove("on"); status.textContent = "reconnecting…"; } };
        source.addEventListener("observation", function (message) {
          let item;
          try { item = JSON.parse(message.data); } catch (e) { return; }
          if (node && item.node !== node) return;
          if (kind && item.kind !== kind) return;
          const li = document.createElement("li");
          li.className = "new" + (item.unusual ? " unusual" : "");
          li.dataset.node = String(item.node);
          li.dataset.kind = String(item.kind);
          const meta = document.createElement("div");
          meta.className = "meta";
          const time = document.createElement("time");
          time.textContent = fmt(item.timeEnd);
          const link = document.createElement("a");
          link.href = "/nodes/" + encodeURIComponent(item.node);
          link.textContent = item.nodeName;
          const label = document.createElement("span");
          label.className = "stream";
          label.textContent = item.kind;
          meta.appendChild(time); meta.appendChild(document.createTextNode(" ")); meta.appendChild(link);
          meta.appendChild(document.createTextNode(" ")); meta.appendChild(label);
          const text = document.createElement("div");
          text.className = "text";
          text.textContent = item.text;
          li.appendChild(meta); li.appendChild(text);
          list.insertBefore(li, list.firstChild);
          const empty = arrivals.querySelector(".empty");
          if (empty) empty.remove();
        });
      }
      const thoughts = document.querySelector("[data-thoughts]");
      if (thoughts && window.EventSource) {
        const out = thoughts.querySelector("pre");
        const source = new EventSource("/api/v1/live/thoughts");
        source.addEventListener("token", function (message) { out.textContent += message.data; });
        source.addEventListener("reset", function () { out.textContent = ""; });
      }
    })();
    """#
}
