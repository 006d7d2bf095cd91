using System.Net;
using System.Text;
using System.Text.Json;
using LiveCam.Core;
using LiveCam.Models;
using LiveCam.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LiveCam.App.Serve;

/// <summary>
/// <c>run --serve</c>: the live view in a browser. <c>/</c> the page (the video, the predictions as bars, controls;
/// its script and style at <c>/livecam.js</c> and <c>/livecam.css</c>), <c>/stream.mjpg</c> the video as MJPEG,
/// <c>/api/state</c> JSON, <c>POST /api/controls</c>. Every request passes <see cref="RequestGuard"/> first. A viewer
/// that does not take a picture within <see cref="WriteDeadline"/> is dropped, so that stuck or crawling clients
/// cannot hold the viewer slots.
/// </summary>
internal sealed class LiveServer : IDisposable
{
    /// <summary>How long one picture may take to leave for a viewer before that viewer is dropped.</summary>
    public static readonly TimeSpan WriteDeadline = TimeSpan.FromSeconds(4);

    const int StreamSendBuffer = 64 * 1024;

    readonly WebApplication _app;
    readonly ServeOptions _options;
    readonly WebFeed _feed;
    readonly ServedControls _controls;
    readonly PipelineMetrics _metrics;
    readonly VisionModel? _model;
    readonly Func<Analysis?> _latest;
    long _viewersDropped;

    public LiveServer(ServeOptions options, WebFeed feed, ServedControls controls, PipelineMetrics metrics,
        VisionModel? model, Func<Analysis?> latest)
    {
        (_options, _feed, _controls, _metrics, _model, _latest) = (options, feed, controls, metrics, model, latest);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(options.Address, options.Port);
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = RequestGuard.MaxBodyBytes;
        });
        _app = builder.Build();
        _app.Use(new RequestGuard(options).InvokeAsync);
        _app.MapGet("/", Page);
        _app.MapGet("/livecam.js", (HttpContext c) => Asset(c, "text/javascript; charset=utf-8", PageAssets.Script));
        _app.MapGet("/livecam.css", (HttpContext c) => Asset(c, "text/css; charset=utf-8", PageAssets.Style));
        _app.MapGet("/stream.mjpg", Stream);
        _app.MapGet("/api/state", (HttpContext c) => Results.Json(State()));
        _app.MapPost("/api/controls", Controls);
    }

    /// <summary>Starts listening; returns the address to open (with the token when one is needed).</summary>
    public async Task<string> StartAsync()
    {
        await _app.StartAsync().ConfigureAwait(false);
        var bound = _app.Urls.First();
        var port = new Uri(bound).Port;
        var host = IPAddress.IsLoopback(_options.Address)
            || _options.Address.Equals(IPAddress.Any) && _options.Token is null
            ? "127.0.0.1"
            : _options.Address.ToString();
        if (_options.Address.Equals(IPAddress.Any) || _options.Address.Equals(IPAddress.IPv6Any))
            host = Dns.GetHostName();
        return $"http://{host}:{port}/{(_options.Token is null ? "" : "?token=" + _options.Token)}";
    }

    /// <summary>The port bound (useful with port 0).</summary>
    public int Port => new Uri(_app.Urls.First()).Port;

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
            ["predictions"] = outputs is not null && _model is not null
                ? SafeJson(_model.Head, outputs, analysis!)
                : null,
            ["bars"] = outputs is not null && _model is not null
                ? _model.Head.Bars(outputs)
                    .Select(b => new Dictionary<string, object?>
                    {
                        ["label"] = b.Label, ["value"] = b.Value, ["text"] = b.Text
                    })
                    .ToList()
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
            ["viewers_dropped"] = Interlocked.Read(ref _viewersDropped),
            ["pictures_encoded"] = _feed.Encoded,
        };
    }

    /// <summary>The predictions as the log has them: the explained one marked, a detector's boxes in the frame's
    /// pixels.</summary>
    static IReadOnlyDictionary<string, object?>? SafeJson(
        IPredictionHead head, IReadOnlyList<float> outputs, Analysis analysis)
    {
        try { return head.Json(outputs, analysis.ExplainedOutput, analysis.HeatmapRegion); }
        catch (ArgumentException) { return null; }
    }

    async Task Controls(HttpContext context)
    {
        // Read whole (Kestrel refuses a body past MaxBodyBytes), then checked whole, then applied.
        var body = new byte[RequestGuard.MaxBodyBytes];
        int length = 0, n;
        while (length < body.Length
            && (n = await context.Request.Body.ReadAsync(body.AsMemory(length), context.RequestAborted)
                .ConfigureAwait(false)) > 0)
            length += n;
        var problem = Apply(body.AsMemory(0, length));
        if (problem is not null)
            await RequestGuard.Error(context, StatusCodes.Status400BadRequest, problem).ConfigureAwait(false);
        else await Results.Json(State()).ExecuteAsync(context).ConfigureAwait(false);
    }

    /// <summary>Applies a control request's body, or says why not (nothing applied then).</summary>
    string? Apply(ReadOnlyMemory<byte> body)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body.Span)) return "the body is not UTF-8";
        try
        {
            using var json = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8 });
            return _controls.Apply(json.RootElement);
        }
        catch (JsonException e)
        {
            return $"expected a JSON object ({Printable.Escape(e.Message.Split('\n')[0])})";
        }
    }

    async Task Stream(HttpContext context)
    {
        if (!_feed.TryAddViewer(_options.MaxViewers))
        {
            await RequestGuard.Error(
                    context, StatusCodes.Status503ServiceUnavailable, $"{_options.MaxViewers} viewers already")
                .ConfigureAwait(false);
            return;
        }
        var cancel = context.RequestAborted;
        try
        {
            // The kernel would otherwise take megabytes for a viewer that reads nothing (loopback autotunes to 4 MB)
            // before a write blocks: a stuck viewer would hold its slot for a minute. 64 KB (the kernel doubles it)
            // carries a 640x480 stream at 30 fps across 50 ms of latency.
            if (context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
                socket.SendBufferSize = StreamSendBuffer;
            const string boundary = "livecamframe";
            context.Response.ContentType = $"multipart/x-mixed-replace; boundary={boundary}";
            long last = 0;
            while (!cancel.IsCancellationRequested)
            {
                var (jpeg, sequence) = await _feed.NextAsync(last, cancel).ConfigureAwait(false);
                last = sequence;
                var header = Encoding.ASCII.GetBytes(
                    $"--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {jpeg.Length}\r\n\r\n");
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                deadline.CancelAfter(WriteDeadline);
                try
                {
                    await context.Response.Body.WriteAsync(header, deadline.Token).ConfigureAwait(false);
                    await context.Response.Body.WriteAsync(jpeg, deadline.Token).ConfigureAwait(false);
                    await context.Response.Body.WriteAsync("\r\n"u8.ToArray(), deadline.Token).ConfigureAwait(false);
                    await context.Response.Body.FlushAsync(deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                {
                    // The viewer does not keep up: it is dropped and its slot freed.
                    Interlocked.Increment(ref _viewersDropped);
                    context.Abort();
                    return;
                }
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
        context.Response.Headers.ContentSecurityPolicy = PageAssets.ContentSecurityPolicy;
        var query = _options.Token is null ? "" : "?token=" + Uri.EscapeDataString(_options.Token);
        return context.Response.WriteAsync(PageAssets.Html.Replace("{{QUERY}}", query, StringComparison.Ordinal));
    }

    static Task Asset(HttpContext context, string type, string text)
    {
        context.Response.ContentType = type;
        return context.Response.WriteAsync(text);
    }

    public void Dispose()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try { _app.StopAsync(stop.Token).GetAwaiter().GetResult(); }
        catch (OperationCanceledException) { }
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
