namespace LiveCam.App.Serve;

/// <summary>The live view's page, its style and its script: separate files, so that the page's
/// Content-Security-Policy can allow this server's own and nothing else (no inline script or style).</summary>
internal static class PageAssets
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>{{QUERY}} becomes the token's query (or nothing).</summary>
    public const string Html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>LiveCam</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="stylesheet" href="/livecam.css{{QUERY}}">
        <script src="/livecam.js{{QUERY}}" defer></script>
        </head>
        <body>
          <img id="video" alt="live video" src="/stream.mjpg{{QUERY}}">
          <div id="side">
            <h1>LiveCam <span id="model" class="muted"></span></h1>
            <div id="explanation"></div>
            <div id="rates" class="muted"></div>
            <div id="bars"></div>
            <fieldset><legend>Controls</legend>
              method <button data-c="method" data-v="previous">&lsaquo;</button><button data-c="method"
                data-v="next">&rsaquo;</button>
              layer <button data-c="layer" data-v="previous">&lsaquo;</button><button data-c="layer"
                data-v="next">&rsaquo;</button>
              target <button data-c="target" data-v="previous">&lsaquo;</button><button data-c="target"
                data-v="next">&rsaquo;</button><button data-c="target" data-v="reset">usual</button><br>
              opacity <input id="opacity" type="range" min="0" max="1" step="0.05">
              <label><input id="freeze" type="checkbox"> freeze</label>
            </fieldset>
            <div id="error"></div>
          </div>
        </body></html>
        """;

    public const string Style = """
        body { margin: 0; background: #111; color: #ddd; font: 15px system-ui, sans-serif; display: flex;
          flex-wrap: wrap; gap: 16px; padding: 16px; }
        #video { width: min(100%, 640px); min-width: 320px; height: auto; align-self: flex-start;
          border: 1px solid #333; background: #000; }
        #side { min-width: 280px; flex: 1; }
        h1 { font-size: 18px; margin: 0 0 8px; } .muted { color: #999; }
        .bar { margin: 6px 0; } .bar .track { background: #333; height: 14px; border-radius: 3px; overflow: hidden; }
        .bar .fill { background: linear-gradient(90deg, #f6d04d, #e0452b); height: 100%; }
        .bar .label { display: flex; justify-content: space-between; }
        button { background: #2a2f36; color: #eee; border: 1px solid #444; border-radius: 4px; padding: 4px 10px;
          margin: 2px; cursor: pointer; }
        fieldset { border: 1px solid #333; margin: 10px 0; } #error { color: #f77; }
        """;

    public const string Script = """
        "use strict";
        const token = new URLSearchParams(location.search).get("token");
        const q = token ? "?token=" + encodeURIComponent(token) : "";
        const $ = id => document.getElementById(id);
        function text(t) { return document.createTextNode(t ?? ""); }
        async function post(body) {
          const r = await fetch("/api/controls" + q,
            { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
          $("error").textContent = r.ok ? "" : (await r.json()).error;
          if (r.ok) show(await r.json());
        }
        document.querySelectorAll("button[data-c]")
          .forEach(b => b.onclick = () => post({ [b.dataset.c]: b.dataset.v }));
        $("opacity").oninput = e => post({ opacity: parseFloat(e.target.value) });
        $("freeze").onchange = e => post({ freeze: e.target.checked });
        function show(s) {
          $("model").textContent = s.model ? `${s.model} (${s.weights})` : "no model";
          $("explanation").textContent = s.method
            ? `${s.method}${s.layer ? " @ " + s.layer : ""}, target ${s.target}` : "";
          $("rates").textContent = `display ${s.display_fps} fps, analysis ${s.analysis_fps} fps, latency ${
            s.latency_ms ?? "-"} ms, dropped ${s.dropped}, viewers ${s.viewers}`;
          const bars = $("bars"); bars.replaceChildren();
          for (const b of s.bars ?? []) {
            const row = document.createElement("div"); row.className = "bar";
            const label = document.createElement("div"); label.className = "label";
            const name = document.createElement("span"); name.appendChild(text(b.label));
            const value = document.createElement("span"); value.appendChild(text(b.text));
            label.append(name, value);
            const track = document.createElement("div"); track.className = "track";
            const fill = document.createElement("div"); fill.className = "fill";
            fill.style.width = (100 * b.value).toFixed(1) + "%";
            track.appendChild(fill); row.append(label, track); bars.appendChild(row);
          }
          if (document.activeElement !== $("opacity")) $("opacity").value = s.opacity;
          $("freeze").checked = s.frozen;
        }
        async function poll() {
          try { const r = await fetch("/api/state" + q); if (r.ok) show(await r.json()); } catch (e) { }
          setTimeout(poll, 250);
        }
        poll();
        """;
}
