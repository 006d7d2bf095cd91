using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace LiveCam.App.Tests;

/// <summary>A real <c>livecam run --serve</c> process and its address.</summary>
public sealed class ServedRun : IDisposable
{
    readonly Process _process;
    public Uri Address { get; }
    public int ProcessId => _process.Id;
    public string Output { get { lock (_output) return _output.ToString(); } }
    readonly StringBuilder _output = new();

    public ServedRun(string extra)
    {
        var info = new ProcessStartInfo("dotnet",
            $"\"{Path.Combine(AppContext.BaseDirectory, "livecam.dll")}\" run --source synthetic:160x120@15 --headless "
            + $"--serve {extra} --out \"{Path.Combine(Path.GetTempPath(), $"livecam-serve-{Guid.NewGuid():N}.mp4")}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(info)!;
        using var ready = new ManualResetEventSlim();
        Uri? address = null;
        _process.OutputDataReceived += (_, e) =>
        {
            lock (_output) _output.AppendLine(e.Data);
            var m = Regex.Match(e.Data ?? "", @"serving the live view at (\S+)");
            if (m.Success)
            {
                address = new Uri(m.Groups[1].Value);
                ready.Set();
            }
        };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (!ready.Wait(TimeSpan.FromSeconds(90)))
        {
            Dispose();
            throw new InvalidOperationException($"the run did not start serving: {Output}");
        }
        Address = address!;
    }

    public void Dispose()
    {
        try { _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        _process.WaitForExit(10_000);
        _process.Dispose();
    }
}

public sealed class ServedRunFixture : IDisposable
{
    public ServedRun Run { get; } = new("0");
    public void Dispose() => Run.Dispose();
}

/// <summary>The browser view as its users meet it: over HTTP, and in a real browser (Debian's chromium driven by
/// Playwright).</summary>
public sealed class WebViewTests(ServedRunFixture fixture) : IClassFixture<ServedRunFixture>
{
    static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(30) };

    Uri At(string path) => new(fixture.Run.Address, path);

    static async Task<JsonElement> State(Uri uri)
    {
        using var response = await s_http.GetAsync(uri);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>Reads JPEG pictures from an MJPEG response until <paramref name="count"/> (or the time is
    /// up).</summary>
    static async Task<List<byte[]>> ReadPictures(HttpResponseMessage response, int count, TimeSpan within)
    {
        using var cancel = new CancellationTokenSource(within);
        var stream = await response.Content.ReadAsStreamAsync(cancel.Token);
        var pictures = new List<byte[]>();
        var buffer = new List<byte>();
        var chunk = new byte[65536];
        try
        {
            while (pictures.Count < count)
            {
                int n = await stream.ReadAsync(chunk, cancel.Token);
                if (n == 0) break;
                buffer.AddRange(chunk.AsSpan(0, n).ToArray());
                while (true)
                {
                    var text = Encoding.ASCII.GetString(buffer.ToArray());
                    var m = Regex.Match(text, @"Content-Length: (\d+)\r\n\r\n");
                    if (!m.Success) break;
                    int start = m.Index + m.Length,
                        length = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                    if (buffer.Count < start + length) break;
                    pictures.Add(buffer.GetRange(start, length).ToArray());
                    buffer.RemoveRange(0, start + length);
                }
            }
        }
        catch (OperationCanceledException) { }
        return pictures;
    }

    [Fact]
    public async Task The_state_names_the_model_and_a_control_changes_the_method_of_the_running_pipeline()
    {
        var before = await State(At("/api/state"));
        Assert.Equal("robot", before.GetProperty("model").GetString());
        Assert.Equal(5, before.GetProperty("bars").GetArrayLength());
        var method = before.GetProperty("method").GetString();
        using (var post = await s_http.PostAsync(At("/api/controls"),
            new StringContent("{\"method\":\"next\"}", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        var deadline = Stopwatch.StartNew();
        string? now = method;
        while (now == method && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100);
            now = (await State(At("/api/state"))).GetProperty("method").GetString();
        }
        Assert.NotEqual(method, now);
        using (var back = await s_http.PostAsync(At("/api/controls"),
            new StringContent("{\"method\":\"previous\"}", Encoding.UTF8, "application/json"))) { }
        using var bad = await s_http.PostAsync(At("/api/controls"),
            new StringContent("{\"colour\":1}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task The_stream_sends_jpeg_pictures_and_nothing_is_encoded_while_nobody_watches()
    {
        // The fixture's run has been up a while; other tests may have watched, so compare before and after a pause.
        var idle0 = (await State(At("/api/state"))).GetProperty("pictures_encoded").GetInt64();
        await Task.Delay(1500);
        var idle1 = (await State(At("/api/state"))).GetProperty("pictures_encoded").GetInt64();
        if ((await State(At("/api/state"))).GetProperty("viewers").GetInt32() == 0) Assert.Equal(idle0, idle1);
        using var response = await s_http.GetAsync(At("/stream.mjpg"), HttpCompletionOption.ResponseHeadersRead);
        Assert.StartsWith("multipart/x-mixed-replace", response.Content.Headers.ContentType!.ToString(),
            StringComparison.Ordinal);
        var pictures = await ReadPictures(response, 5, TimeSpan.FromSeconds(30));
        Assert.True(pictures.Count >= 5, $"{pictures.Count} pictures in 30 s");
        Assert.All(pictures, p => Assert.True(p[0] == 0xFF && p[1] == 0xD8, "not a JPEG"));
        Assert.True((await State(At("/api/state"))).GetProperty("pictures_encoded").GetInt64() > idle1);
    }

    [Fact]
    public async Task
        Twenty_viewers_get_eight_streams_and_twelve_answers_503_and_a_viewer_that_stops_reading_slows_no_one()
    {
        // Viewers of the other tests in this class leave first.
        var quiet = Stopwatch.StartNew();
        while ((await State(At("/api/state"))).GetProperty("viewers").GetInt32() > 0
            && quiet.Elapsed < TimeSpan.FromSeconds(30))
            await Task.Delay(100);
        // One viewer that never reads: a raw connection asking for the stream.
        using var stuck = new TcpClient();
        await stuck.ConnectAsync(fixture.Run.Address.Host, fixture.Run.Address.Port);
        await stuck.GetStream().WriteAsync(
            Encoding.ASCII.GetBytes($"GET /stream.mjpg HTTP/1.1\r\nHost: {fixture.Run.Address.Authority}\r\n\r\n"));
        await Task.Delay(500);
        var responses = await Task.WhenAll(Enumerable.Range(0, 19)
            .Select(_ => s_http.GetAsync(At("/stream.mjpg"), HttpCompletionOption.ResponseHeadersRead)));
        try
        {
            Assert.Equal(7, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
            Assert.Equal(12, responses.Count(r => r.StatusCode == HttpStatusCode.ServiceUnavailable));
            // The others still get pictures while the stuck one holds its connection.
            var first = responses.First(r => r.StatusCode == HttpStatusCode.OK);
            var pictures = await ReadPictures(first, 10, TimeSpan.FromSeconds(30));
            Assert.True(pictures.Count >= 10, $"{pictures.Count} pictures in 30 s beside a stuck viewer");
        }
        finally
        {
            foreach (var r in responses) r.Dispose();
        }
    }

    [SkippableFact]
    public async Task In_a_real_browser_the_page_shows_the_live_picture_and_a_button_changes_the_method()
    {
        Skip.IfNot(File.Exists("/usr/bin/chromium"),
            "needs Debian's chromium (apt-get install chromium; test.sh installs it)");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(
            new() { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1000, Height = 560 } });
        // The page runs under its own Content-Security-Policy (script and style from this server only): nothing of it
        // may be blocked.
        var blocked = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Text.Contains("Content Security Policy", StringComparison.Ordinal))
                lock (blocked) blocked.Add(m.Text);
        };
        await page.GotoAsync(fixture.Run.Address.ToString());
        await page.WaitForFunctionAsync("() => document.getElementById('video').naturalWidth === 160", null,
            new() { Timeout = 30_000 });
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#bars .bar').length === 5", null,
            new() { Timeout = 30_000 });
        var explanation = await page.InnerTextAsync("#explanation");
        Assert.StartsWith("gradcam", explanation, StringComparison.Ordinal);
        // The picture updates: two screenshots of it a second apart differ (the synthetic scene moves).
        var a = await page.Locator("#video").ScreenshotAsync();
        await Task.Delay(1000);
        var b = await page.Locator("#video").ScreenshotAsync();
        Assert.False(a.AsSpan().SequenceEqual(b), "the picture did not change in a second");
        await page.ClickAsync("button[data-c='method'][data-v='next']");
        await page.WaitForFunctionAsync("t => !document.getElementById('explanation').textContent.startsWith(t)",
            explanation.Split(' ')[0] + " ", new() { Timeout = 30_000 });
        Assert.DoesNotMatch(@"^gradcam @", await page.InnerTextAsync("#explanation"));
        await page.ScreenshotAsync(
            new() { Path = Path.Combine(Path.GetTempPath(), "livecam-web-view.png"), FullPage = true });
        lock (blocked) Assert.Empty(blocked);
        await page.ClickAsync("button[data-c='method'][data-v='previous']");
    }
}

/// <summary>A run served with a token: nothing answers without it.</summary>
public sealed class WebViewTokenTests
{
    [Fact]
    public async Task Without_the_token_every_path_answers_401_and_with_it_200()
    {
        using var run = new ServedRun("127.0.0.1:0 --token right-token-123");
        Assert.Contains("?token=right-token-123", run.Address.ToString(), StringComparison.Ordinal);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var root = new Uri(run.Address.GetLeftPart(UriPartial.Authority));
        foreach (var path in new[] { "/", "/api/state", "/stream.mjpg" })
        {
            using (var none = await http.GetAsync(new Uri(root, path), HttpCompletionOption.ResponseHeadersRead))
                Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            using (var wrong = await http.GetAsync(new Uri(root, path + "?token=wrong-token-123"),
                HttpCompletionOption.ResponseHeadersRead))
                Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            using (var right = await http.GetAsync(new Uri(root, path + "?token=right-token-123"),
                HttpCompletionOption.ResponseHeadersRead))
                Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        }
        using var post = new HttpRequestMessage(HttpMethod.Post, new Uri(root, "/api/controls"))
        {
            Content = new StringContent("{\"opacity\":0.8}", Encoding.UTF8, "application/json")
        };
        using (var denied = await http.SendAsync(post)) Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        using var bearer = new HttpRequestMessage(HttpMethod.Post, new Uri(root, "/api/controls"))
        {
            Content = new StringContent("{\"opacity\":0.8}", Encoding.UTF8, "application/json")
        };
        bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "right-token-123");
        using var ok = await http.SendAsync(bearer);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(0.8,
            JsonDocument.Parse(await ok.Content.ReadAsStringAsync()).RootElement.GetProperty("opacity").GetDouble(), 3);
    }

    [Fact]
    public async Task Every_form_of_a_wrong_token_is_401_and_allow_host_serves_a_name_of_ones_own()
    {
        using var run = new ServedRun("127.0.0.1:0 --token right-token-123 --allow-host robot.lab,other.lab");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var root = new Uri(run.Address.GetLeftPart(UriPartial.Authority));
        async Task<HttpStatusCode> Get(string path, Action<HttpRequestMessage>? change = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(root, path));
            change?.Invoke(request);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            return response.StatusCode;
        }
        foreach (var (query, header) in new (string, string?)[]
        {
            ("", "bearer right-token-123"), ("", "Bearer "), ("", "Bearer right-token-12"),
            ("", "Bearer right-token-1234"),
            ("", "Basic cmlnaHQtdG9rZW4tMTIz"), ("?token=", null), ("?token=right-token-12", null),
            ("?token=xright-token-123", null),
            ("?token=right-token-123x", null), ("?token=right-token-123&token=right-token-123", null),
        })
            Assert.Equal(HttpStatusCode.Unauthorized, await Get("/api/state" + query, r =>
            {
                if (header is not null) r.Headers.TryAddWithoutValidation("Authorization", header);
            }));
        Assert.Equal(HttpStatusCode.Unauthorized,
            await Get("/api/state", r => r.Headers.Add("Cookie", "token=right-token-123")));
        Assert.Equal(HttpStatusCode.OK,
            await Get("/api/state?token=right-token-123", r => r.Headers.Host = "robot.lab"));
        Assert.Equal(HttpStatusCode.OK,
            await Get("/api/state?token=right-token-123", r => r.Headers.Host = $"other.lab:{root.Port}"));
        // The Host is checked first: a rebinding name is refused even with the token.
        Assert.Equal(HttpStatusCode.Forbidden,
            await Get("/api/state?token=right-token-123", r => r.Headers.Host = "evil.example"));
    }

    [Fact]
    public async Task Bound_to_every_address_the_names_and_addresses_of_this_machine_are_served_and_no_other()
    {
        using var run = new ServedRun("0.0.0.0:0 --token right-token-123");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var state = new Uri($"http://127.0.0.1:{run.Address.Port}/api/state?token=right-token-123");
        async Task<HttpStatusCode> Get(string host)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, state);
            request.Headers.Host = host;
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }
        var addresses = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork).ToList();
        Assert.NotEmpty(addresses);
        foreach (var address in addresses) Assert.Equal(HttpStatusCode.OK, await Get($"{address}:{run.Address.Port}"));
        Assert.Equal(HttpStatusCode.OK, await Get(Dns.GetHostName()));
        Assert.Equal(HttpStatusCode.OK, await Get(run.Address.Authority));  // the address printed
        Assert.Equal(HttpStatusCode.Forbidden, await Get("evil.example"));
        Assert.Equal(HttpStatusCode.Forbidden, await Get("10.254.254.254"));
    }

    [Theory]
    [InlineData("8080 --allow-host bad/name", "--allow-host 'bad/name': not a host name")]
    [InlineData("0.0.0.0:notaport", "the port must be")]
    [InlineData("8080 --max-viewers 0", "--max-viewers must be")]
    [InlineData("8080 --token short", "--token must be")]
    public void Bad_serve_options_are_one_line(string serve, string message)
    {
        var (code, _, error) = CliRunner.Invoke(["run", "--serve", .. serve.Split(' ')]);
        Assert.NotEqual(0, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }
}
