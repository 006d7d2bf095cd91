using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LiveCam.Core;
using LiveCam.Drawing;
using LiveCam.Models;
using LiveCam.Pipeline;
using LiveCam.Pipeline.Analysers;
using LiveCam.Pipeline.Drawing;
using LiveCam.Pipeline.Operators;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LiveCam.App.Serve;

/// <summary>Where and how <c>--serve</c> listens: loopback needs no token; any other address does.</summary>
internal sealed record ServeOptions(IPAddress Address, int Port, string? Token, int MaxViewers)
{
    /// <summary>Parses <c>[ADDR:]PORT</c>; a token is generated for a non-loopback address when none is given.</summary>
    public static ServeOptions Parse(string text, string? token, int maxViewers)
    {
        ArgumentNullException.ThrowIfNull(text);
        int colon = text.LastIndexOf(':');
        var address = IPAddress.Loopback;
        if (colon >= 0 && !IPAddress.TryParse(text[..colon].Trim('[', ']'), out address!))
            throw new UsageException($"--serve '{text}': expected [ADDRESS:]PORT, e.g. 8080 or 0.0.0.0:8080");
        if (!int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 0 or > 65535)
            throw new UsageException($"--serve '{text}': the port must be 0-65535");
        if (maxViewers < 1) throw new UsageException("--max-viewers must be at least 1");
        if (token is { Length: < 8 }) throw new UsageException("--token must be at least 8 characters");
        if (token is null && !IPAddress.IsLoopback(address)) token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        return new ServeOptions(address, port, token, maxViewers);
    }
}

/// <summary>What the page controls: the explanation's choices, the overlay's opacity, freezing the picture.</summary>
internal sealed class ServedControls(IExplanationControls? explanation, FreezeGate freeze, WebFeed feed)
{
    float _opacity = new OverlayOptions().Opacity;

    public ViewOptions View => new() { Overlay = new OverlayOptions { Opacity = Volatile.Read(ref _opacity) } };

    public float Opacity => Volatile.Read(ref _opacity);

    public bool Frozen => freeze.IsFrozen;

    public string? Apply(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) return "expected a JSON object";
        foreach (var p in body.EnumerateObject())
        {
            switch (p.Name)
            {
                case "method" or "layer" or "target":
                    if (explanation is null) return "there is no model to control";
                    int by = p.Value.GetString() switch { "next" => 1, "previous" => -1, "reset" when p.Name == "target" => 0, _ => int.MinValue };
                    if (by == int.MinValue) return $"{p.Name}: expected \"next\" or \"previous\"{(p.Name == "target" ? " or \"reset\"" : "")}";
                    if (p.Name == "method") explanation.StepMethod(by);
                    else if (p.Name == "layer") explanation.StepLayer(by);
                    else if (by == 0) explanation.ResetTarget();
                    else explanation.StepTarget(by);
                    break;
                case "opacity":
                    if (p.Value.ValueKind != JsonValueKind.Number || p.Value.GetSingle() is var o && (o < 0 || o > 1)) return "opacity: a number from 0 to 1";
                    Volatile.Write(ref _opacity, p.Value.GetSingle());
                    break;
                case "freeze":
                    if (p.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) return "freeze: true or false";
                    if (p.Value.GetBoolean())
                    {
                        using var shown = feed.LastShown();
                        if (shown is not null) freeze.Freeze(shown);
                    }
                    else freeze.Thaw();
                    break;
                default:
                    return $"unknown control '{p.Name}' (method, layer, target, opacity, freeze)";
            }
        }
        return null;
    }
}

/// <summary>
/// <c>run --serve</c>: the live view in a browser. <c>/</c> the page (the video, the predictions as bars, controls),
/// <c>/stream.mjpg</c> the video as MJPEG, <c>/api/state</c> JSON, <c>POST /api/controls</c>. With a token every path
/// answers 401 without it (<c>Authorization: Bearer T</c>, or <c>?token=T</c>), compared in constant time.
/// </summary>
internal sealed class LiveServer : IDisposable
{
    readonly WebApplication _app;
    readonly ServeOptions _options;
    readonly WebFeed _feed;
    readonly ServedControls _controls;
    readonly PipelineMetrics _metrics;
    readonly VisionModel? _model;
    readonly Func<Analysis?> _latest;

    public LiveServer(ServeOptions options, WebFeed feed, ServedControls controls, PipelineMetrics metrics, VisionModel? model, Func<Analysis?> latest)
    {
        (_options, _feed, _controls, _metrics, _model, _latest) = (options, feed, controls, metrics, model, latest);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(options.Address, options.Port);
            k.AddServerHeader = false;
        });
        _app = builder.Build();
        _app.Use(Authorize);
        _app.MapGet("/", Page);
        _app.MapGet("/stream.mjpg", Stream);
        _app.MapGet("/api/state", (HttpContext c) => Results.Json(State()));
        _app.MapPost("/api/controls", (Delegate)Controls);
    }

    /// <summary>Starts listening; returns the address to open (with the token when one is needed).</summary>
    public async Task<string> StartAsync()
    {
        await _app.StartAsync().ConfigureAwait(false);
        var bound = _app.Urls.First();
        var port = new Uri(bound).Port;
        var host = IPAddress.IsLoopback(_options.Address) || _options.Address.Equals(IPAddress.Any) && _options.Token is null ? "127.0.0.1" : _options.Address.ToString();
        if (_options.Address.Equals(IPAddress.Any) || _options.Address.Equals(IPAddress.IPv6Any)) host = Dns.GetHostName();
        return $"http://{host}:{port}/{(_options.Token is null ? "" : "?token=" + _options.Token)}";
    }

    /// <summary>The port bound (useful with port 0).</summary>
    public int Port => new Uri(_app.Urls.First()).Port;

    async Task Authorize(HttpContext context, Func<Task> next)
    {
        if (_options.Token is { } token)
        {
            string? given = context.Request.Query["token"];
            var header = context.Request.Headers.Authorization.ToString();
            if (header.StartsWith("Bearer ", StringComparison.Ordinal)) given = header["Bearer ".Length..];
            if (given is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(token)))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await context.Response.WriteAsync("livecam: a token is needed (?token=... or Authorization: Bearer ...)\n").ConfigureAwait(false);
                return;
            }
        }
        await next().ConfigureAwait(false);
    }

    Dictionary<string, object?> State()
    {
        var analysis = _latest();
        var outputs = analysis?.Outputs;
        return new Dictionary<string, object?>
        {
            ["model"] = _model?.Name,
            ["weights"] = _model?.Weights,
            ["method"] = analysis?.Choice?.Method,
            ["layer"] = analysis?.Choice?.Layer,
            ["target"] = analysis?.Choice?.Target,
            ["description"] = analysis?.Description,
            ["frame"] = analysis?.FrameSequence,
            ["predictions"] = outputs is not null && _model is not null ? SafeJson(_model.Head, outputs) : null,
            ["bars"] = outputs is not null && _model is not null
                ? _model.Head.Bars(outputs).Select(b => new Dictionary<string, object?> { ["label"] = b.Label, ["value"] = b.Value, ["text"] = b.Text }).ToList()
                : null,
            ["display_fps"] = Math.Round(_metrics.DisplayRate.PerSecond(), 1),
            ["analysis_fps"] = Math.Round(_metrics.AnalysisRate.PerSecond(), 1),
            ["latency_ms"] = analysis is null ? null : Math.Round(analysis.Latency.TotalMilliseconds, 1),
            ["shown"] = _metrics.Shown,
            ["dropped"] = _metrics.DisplayDropped,
            ["analysed"] = _metrics.Analysed,
            ["opacity"] = _controls.Opacity,
            ["frozen"] = _controls.Frozen,
            ["viewers"] = _feed.Viewers,
            ["pictures_encoded"] = _feed.Encoded,
        };
    }

    static IReadOnlyDictionary<string, object?>? SafeJson(IPredictionHead head, IReadOnlyList<float> outputs)
    {
        try { return head.Json(outputs); }
        catch (ArgumentException) { return null; }
    }

    async Task<IResult> Controls(HttpContext context)
    {
        JsonElement body;
        try { body = (await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false)).RootElement; }
        catch (JsonException) { return Results.BadRequest(new { error = "expected a JSON object" }); }
        var problem = _controls.Apply(body);
        return problem is null ? Results.Json(State()) : Results.BadRequest(new { error = problem });
    }

    async Task Stream(HttpContext context)
    {
        if (!_feed.TryAddViewer(_options.MaxViewers))
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync($"livecam: {_options.MaxViewers} viewers already\n").ConfigureAwait(false);
            return;
        }
        try
        {
            const string boundary = "livecamframe";
            context.Response.ContentType = $"multipart/x-mixed-replace; boundary={boundary}";
            context.Response.Headers.CacheControl = "no-store";
            var cancel = context.RequestAborted;
            long last = 0;
            while (!cancel.IsCancellationRequested)
            {
                var (jpeg, sequence) = await _feed.NextAsync(last, cancel).ConfigureAwait(false);
                last = sequence;
                var header = Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {jpeg.Length}\r\n\r\n");
                await context.Response.Body.WriteAsync(header, cancel).ConfigureAwait(false);
                await context.Response.Body.WriteAsync(jpeg, cancel).ConfigureAwait(false);
                await context.Response.Body.WriteAsync("\r\n"u8.ToArray(), cancel).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(cancel).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException) { }  // the viewer left
        finally
        {
            _feed.RemoveViewer();
        }
    }

    Task Page(HttpContext context)
    {
        context.Response.ContentType = "text/html; charset=utf-8";
        var query = _options.Token is null ? "" : "?token=" + Uri.EscapeDataString(_options.Token);
        return context.Response.WriteAsync(PageHtml.Replace("{{QUERY}}", query, StringComparison.Ordinal));
    }

    public void Dispose()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try { _app.StopAsync(stop.Token).GetAwaiter().GetResult(); }
        catch (OperationCanceledException) { }
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    const string PageHtml = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>LiveCam</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
          body { margin: 0; background: #111; color: #ddd; font: 15px system-ui, sans-serif; display: flex; flex-wrap: wrap; gap: 16px; padding: 16px; }
          #video { width: min(100%, 640px); min-width: 320px; height: auto; align-self: flex-start; border: 1px solid #333; background: #000; }
          #side { min-width: 280px; flex: 1; }
          h1 { font-size: 18px; margin: 0 0 8px; } .muted { color: #999; }
          .bar { margin: 6px 0; } .bar .track { background: #333; height: 14px; border-radius: 3px; overflow: hidden; }
          .bar .fill { background: linear-gradient(90deg, #f6d04d, #e0452b); height: 100%; }
          .bar .label { display: flex; justify-content: space-between; }
          button { background: #2a2f36; color: #eee; border: 1px solid #444; border-radius: 4px; padding: 4px 10px; margin: 2px; cursor: pointer; }
          fieldset { border: 1px solid #333; margin: 10px 0; } #error { color: #f77; }
        </style></head>
        <body>
          <img id="video" alt="live video" src="/stream.mjpg{{QUERY}}">
          <div id="side">
            <h1>LiveCam <span id="model" class="muted"></span></h1>
            <div id="explanation"></div>
            <div id="rates" class="muted"></div>
            <div id="bars"></div>
            <fieldset><legend>Controls</legend>
              method <button data-c="method" data-v="previous">&lsaquo;</button><button data-c="method" data-v="next">&rsaquo;</button>
              layer <button data-c="layer" data-v="previous">&lsaquo;</button><button data-c="layer" data-v="next">&rsaquo;</button>
              target <button data-c="target" data-v="previous">&lsaquo;</button><button data-c="target" data-v="next">&rsaquo;</button><button data-c="target" data-v="reset">usual</button><br>
              opacity <input id="opacity" type="range" min="0" max="1" step="0.05">
              <label><input id="freeze" type="checkbox"> freeze</label>
            </fieldset>
            <div id="error"></div>
          </div>
        <script>
        const q = "{{QUERY}}";
        const $ = id => document.getElementById(id);
        function text(t) { return document.createTextNode(t ?? ""); }
        async function post(body) {
          const r = await fetch("/api/controls" + q, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
          $("error").textContent = r.ok ? "" : (await r.json()).error;
          if (r.ok) show(await r.json());
        }
        document.querySelectorAll("button[data-c]").forEach(b => b.onclick = () => post({ [b.dataset.c]: b.dataset.v }));
        $("opacity").oninput = e => post({ opacity: parseFloat(e.target.value) });
        $("freeze").onchange = e => post({ freeze: e.target.checked });
        function show(s) {
          $("model").textContent = s.model ? `${s.model} (${s.weights})` : "no model";
          $("explanation").textContent = s.method ? `${s.method}${s.layer ? " @ " + s.layer : ""}, target ${s.target}` : "";
          $("rates").textContent = `display ${s.display_fps} fps, analysis ${s.analysis_fps} fps, latency ${s.latency_ms ?? "-"} ms, dropped ${s.dropped}, viewers ${s.viewers}`;
          const bars = $("bars"); bars.replaceChildren();
          for (const b of s.bars ?? []) {
            const row = document.createElement("div"); row.className = "bar";
            const label = document.createElement("div"); label.className = "label";
            const name = document.createElement("span"); name.appendChild(text(b.label));
            const value = document.createElement("span"); value.appendChild(text(b.text));
            label.append(name, value);
            const track = document.createElement("div"); track.className = "track";
            const fill = document.createElement("div"); fill.className = "fill"; fill.style.width = (100 * b.value).toFixed(1) + "%";
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
        </script>
        </body></html>
        """;
}
