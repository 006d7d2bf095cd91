using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace LiveCam.App.Serve;

/// <summary>
/// Every request to the live view passes here first, as Jupyter and the Vite and webpack dev servers guard theirs.
/// The Host must name what is served (else a page elsewhere pointed its own name at this address: DNS rebinding);
/// a request from a page of another origin, and a POST that is not <c>application/json</c> (which a browser would send
/// cross-site without asking first), are refused; then the token. Every refusal and every error without a body of its
/// own is one line of JSON; every response says nosniff, no-referrer and no-store. No CORS headers are ever sent.
/// </summary>
internal sealed class RequestGuard(ServeOptions options)
{
    /// <summary>A control request is under 100 bytes; nothing served takes more than this.</summary>
    public const int MaxBodyBytes = 4096;

    readonly Func<string, bool> _hostAllowed = options.HostAllowed();
    readonly byte[]? _token = options.Token is null ? null : Encoding.UTF8.GetBytes(options.Token);

    public async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-store";
        if (Refusal(context.Request) is { } refusal)
        {
            if (refusal.Status == StatusCodes.Status401Unauthorized) headers.WWWAuthenticate = "Bearer";
            if (refusal.Status == StatusCodes.Status413PayloadTooLarge) headers.Connection = "close";
            await Error(context, refusal.Status, refusal.Message).ConfigureAwait(false);
            return;
        }
        try
        {
            await next().ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            // Kestrel's own refusals met while reading (a body over the limit, one cut short).
            if (e.StatusCode == StatusCodes.Status413PayloadTooLarge) headers.Connection = "close";
            await Error(context, e.StatusCode, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"the body is over {MaxBodyBytes} bytes" : Core.Printable.Escape(e.Message)).ConfigureAwait(false);
            return;
        }
        catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
        {
            // A fault of LiveCam's, not of the request: still one line, naming it.
            await Error(context, StatusCodes.Status500InternalServerError,
                    $"LiveCam failed: {e.GetType().Name}: {Core.Printable.Escape(e.Message.Split('\n')[0])}")
                .ConfigureAwait(false);
            return;
        }
        // Routing's answers (no such path, another method) carry no body: give them their line.
        if (!context.Response.HasStarted && context.Response.StatusCode >= 400 && context.Response.ContentType is null)
            await Error(context, context.Response.StatusCode, context.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound =>
                    $"no such path '{Core.Printable.Escape(context.Request.Path.Value ?? "")}'",
                StatusCodes.Status405MethodNotAllowed =>
                    $"{Core.Printable.Escape(context.Request.Method)} is not allowed here",
                var status => $"request refused ({status})",
            }).ConfigureAwait(false);
    }

    (int Status, string Message)? Refusal(HttpRequest request)
    {
        var host = request.Host;
        if (!host.HasValue || !_hostAllowed(host.Host))
            return (StatusCodes.Status403Forbidden, host.HasValue
                ? $"Host '{Core.Printable.Escape(host.Host)}' is not this live view's; "
                    + "--allow-host NAME serves a name of your own"
                : "a Host header is needed");
        string? origin = request.Headers.Origin;
        if (origin is not null && !string.Equals(origin, $"http://{host.Value}", StringComparison.OrdinalIgnoreCase))
            return (StatusCodes.Status403Forbidden,
                $"a page of another origin ({Core.Printable.Escape(origin)}) may not use the live view");
        // A browser says where a request comes from; only the page's own requests, and opening it, are served.
        string? site = request.Headers["Sec-Fetch-Site"];
        bool opening = HttpMethods.IsGet(request.Method) && request.Path == "/"
            && request.Headers["Sec-Fetch-Mode"] == "navigate";
        if (site is not null && site != "same-origin" && site != "none" && !opening)
            return (StatusCodes.Status403Forbidden,
                $"a {Core.Printable.Escape(site)} request may not use the live view");
        if (_token is not null && !Authorized(request))
            return (StatusCodes.Status401Unauthorized, "a token is needed (?token=... or Authorization: Bearer ...)");
        if (HttpMethods.IsPost(request.Method))
        {
            if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
                || !type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
                return (StatusCodes.Status415UnsupportedMediaType,
                    "a control request is Content-Type: application/json");
            if (request.ContentLength > MaxBodyBytes)
                return (StatusCodes.Status413PayloadTooLarge, $"the body is over {MaxBodyBytes} bytes");
        }
        return null;
    }

    bool Authorized(HttpRequest request)
    {
        string? given = request.Query["token"];
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.Ordinal)) given = header["Bearer ".Length..];
        return given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _token);
    }

    // Readable quotes: the answer is JSON, never HTML (nosniff).
    static readonly JsonSerializerOptions s_json = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping
    };

    /// <summary>One line of JSON: {"error": "..."}.</summary>
    public static Task Error(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(
            JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = message }, s_json) + "\n");
    }
}
