using System.Net;

namespace OrleansSynth.Cli.Connection;

/// <summary>
/// Where the cluster is: its gateways (static endpoints), its Redis membership table, or its Azure Storage membership
/// table. Written as <c>host:port[,host:port...]</c>, <c>redis://host:port[,password=...]</c> or
/// <c>azure://CONNECTION-STRING</c> (or <c>azure://https://ACCOUNT.table.core.windows.net</c>, reached with a managed
/// or workload identity), in --cluster, in <see cref="Variable"/>, or on the first line of <see cref="ConfigFile"/>;
/// none of them means a local silo on this machine.
/// </summary>
internal sealed record ClusterTarget(
    IReadOnlyList<IPEndPoint> Gateways,
    string? Redis,
    string ClusterId = "orleanssynth",
    string ServiceId = "orleanssynth",
    string? AzureTables = null
)
{
    public const string Variable = "ORLEANSSYNTH_CLUSTER";

    public static string ConfigFile =>
        Path.Combine(
            Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } config
                ? config
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config"),
            "orleanssynth",
            "cluster"
        );

    /// <summary>The named cluster (option, then variable, then config file), or null for a local silo.</summary>
    public static ClusterTarget? Resolve(string? option)
    {
        var value = option
            ?? Environment.GetEnvironmentVariable(Variable)
            ?? (
                File.Exists(ConfigFile)
                    ? File.ReadLines(ConfigFile)
                        .FirstOrDefault(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('#'))
                        ?.Trim()
                    : null
            );
        return string.IsNullOrWhiteSpace(value) ? null : Parse(value);
    }

    public static ClusterTarget Parse(string value)
    {
        if (value.StartsWith("redis://", StringComparison.OrdinalIgnoreCase))
            return new([], value["redis://".Length..]);
        if (value.StartsWith("azure://", StringComparison.OrdinalIgnoreCase))
            return new([], null, AzureTables: value["azure://".Length..]);
        var gateways = value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Endpoint)
            .ToList();
        return new(gateways, null);
    }

    private static IPEndPoint Endpoint(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], out var port) || port is < 1 or > 65535)
            throw new ArgumentException($"--cluster: '{text}' is not host:port (or use redis://host:port).");
        var host = text[..colon];
        if (IPAddress.TryParse(host, out var ip))
            return new IPEndPoint(ip, port);
        try
        {
            return new IPEndPoint(
                Dns.GetHostAddresses(host).First(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork),
                port
            );
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or InvalidOperationException)
        {
            throw new ClusterUnreachableException($"cannot resolve the gateway host '{host}'.");
        }
    }

    /// <summary>As shown to users and in errors: a Redis password is never printed.</summary>
    public override string ToString() =>
        Redis is not null
            ? "redis://" + System.Text.RegularExpressions.Regex.Replace(Redis, "(?i)(password=)[^,]*", "$1***")
        : AzureTables is not null
            ? "azure://"
                + System.Text.RegularExpressions.Regex.Replace(
                    AzureTables,
                    "(?i)((AccountKey|SharedAccessSignature)=)[^;]*",
                    "$1***"
                )
        : string.Join(",", Gateways);

    /// <summary>The Azure tables the membership is in: by connection string, or by URL with a managed or workload
    /// identity.</summary>
    public Azure.Data.Tables.TableServiceClient AzureTableClient() =>
        AzureTables!.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            ? new(new Uri(AzureTables), new Azure.Identity.DefaultAzureCredential())
            : new(AzureTables);
}
