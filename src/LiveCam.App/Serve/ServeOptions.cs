using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Security.Cryptography;

namespace LiveCam.App.Serve;

/// <summary>Where and how <c>--serve</c> listens: loopback needs no token; any other address does. Requests must name,
/// in their Host header, what is served (see <see cref="HostAllowed"/>).</summary>
internal sealed record ServeOptions(IPAddress Address, int Port, string? Token, int MaxViewers,
    IReadOnlyList<string> AllowedHosts)
{
    /// <summary>Parses <c>[ADDR:]PORT</c>; a token is generated for a non-loopback address when none is
    /// given.</summary>
    public static ServeOptions Parse(string text, string? token, int maxViewers,
        IReadOnlyList<string>? allowedHosts = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        int colon = text.LastIndexOf(':');
        var address = IPAddress.Loopback;
        if (colon >= 0 && !IPAddress.TryParse(text[..colon].Trim('[', ']'), out address!))
            throw new UsageException($"--serve '{text}': expected [ADDRESS:]PORT, e.g. 8080 or 0.0.0.0:8080");
        if (!int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 0 or > 65535)
            throw new UsageException($"--serve '{text}': the port must be 0-65535");
        if (maxViewers < 1) throw new UsageException("--max-viewers must be at least 1");
        if (token is { Length: < 8 }) throw new UsageException("--token must be at least 8 characters");
        if (token is null && !IPAddress.IsLoopback(address))
            token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        var hosts = (allowedHosts ?? [])
            .SelectMany(h => h.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToList();
        foreach (var host in hosts)
            if (host != "*" && Uri.CheckHostName(host.Trim('[', ']')) == UriHostNameType.Unknown)
                throw new UsageException($"--allow-host '{Core.Printable.Escape(host)}': not a host name or address");
        return new ServeOptions(address, port, token, maxViewers, hosts);
    }

    /// <summary>The names a request may give as its Host: loopback's, the bound address (every address of this machine
    /// and its name when bound to all), and those given with --allow-host ("*": any). Anything else is a page elsewhere
    /// that pointed its own name at this address (DNS rebinding).</summary>
    public Func<string, bool> HostAllowed()
    {
        if (AllowedHosts.Contains("*")) return _ => true;
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "localhost", "127.0.0.1", "::1" };
        foreach (var host in AllowedHosts) names.Add(Normal(host));
        if (Address.Equals(IPAddress.Any) || Address.Equals(IPAddress.IPv6Any))
        {
            names.Add(Normal(Dns.GetHostName()));
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                    names.Add(Normal(unicast.Address.ToString()));
        }
        else names.Add(Normal(Address.ToString()));
        return host => names.Contains(Normal(host));
    }

    /// <summary>A host as compared: without IPv6 brackets, a zone or a final dot.</summary>
    static string Normal(string host)
    {
        host = host.Trim().Trim('[', ']').TrimEnd('.');
        int zone = host.IndexOf('%', StringComparison.Ordinal);
        return zone >= 0 ? host[..zone] : host;
    }
}
