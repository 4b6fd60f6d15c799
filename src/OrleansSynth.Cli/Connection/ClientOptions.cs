using System.CommandLine;

namespace OrleansSynth.Cli.Connection;

/// <summary>
/// The options every command shares: which cluster, which operator token, which local data folder, JSON output.
/// </summary>
internal static class ClientOptions
{
    public const string TokenVariable = "ORLEANSSYNTH_OPERATOR_TOKEN";
    public const string CertificateVariable = "ORLEANSSYNTH_CLIENT_CERT";
    public const string KeyVariable = "ORLEANSSYNTH_CLIENT_KEY";
    public const string CaVariable = "ORLEANSSYNTH_CA";
    public const string DataVariable = "ORLEANSSYNTH_DATA";

    public static readonly Option<string?> Cluster = new("--cluster")
    {
        Description =
            "The cluster: host:port[,host:port] of its gateways, or its membership: "
            + "redis://host:port[,user=...,password=...] or azure://CONNECTION-STRING|TABLE-URL. "
            + $"Default: {ClusterTarget.Variable}, then {ClusterTarget.ConfigFile}; none: a local silo.",
        Recursive = true,
    };

    public static readonly Option<string?> Token = new("--token")
    {
        Description =
            "The cluster's operator token instead of a certificate "
            + $"(default: {TokenVariable}; a local silo's own token).",
        Recursive = true,
    };

    public static readonly Option<string?> Certificate = new("--cert")
    {
        Description =
            "Client certificate (PEM) signed by the cluster's CA: mutual TLS, and your principal and role "
            + $"(default: {CertificateVariable}).",
        Recursive = true,
    };

    public static readonly Option<string?> Key = new("--key")
    {
        Description = $"The client certificate's private key (PEM; default: {KeyVariable}, else the --cert file).",
        Recursive = true,
    };

    public static readonly Option<string?> Ca = new("--ca")
    {
        Description = $"The cluster's CA certificate (PEM): only silos it signed are trusted (default: {CaVariable}).",
        Recursive = true,
    };

    public static readonly Option<string> Data = new("--data")
    {
        Description = $"Local silo only: the folder of its data (default: {DataVariable}, else out/local).",
        DefaultValueFactory = _ =>
            Environment.GetEnvironmentVariable(DataVariable) is { Length: > 0 } data
                ? data
                : Path.Combine("out", "local"),
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print JSON for scripts instead of text.",
        Recursive = true,
    };

    public static void AddTo(RootCommand root)
    {
        root.Options.Add(Cluster);
        root.Options.Add(Token);
        root.Options.Add(Certificate);
        root.Options.Add(Key);
        root.Options.Add(Ca);
        root.Options.Add(Data);
        root.Options.Add(Json);
    }

    /// <summary>
    /// Connects to the named cluster, or to the local silo of <paramref name="dataRoot"/> (started if needed).
    /// </summary>
    public static async Task<ClusterConnection> ConnectAsync(
        ParseResult parse,
        CancellationToken cancellationToken,
        string? dataRoot = null
    )
    {
        var token = parse.GetValue(Token) ?? Variable(TokenVariable);
        var certificate = parse.GetValue(Certificate) ?? Variable(CertificateVariable);
        var identity = new ClientIdentity(
            token,
            certificate,
            parse.GetValue(Key) ?? Variable(KeyVariable),
            parse.GetValue(Ca) ?? Variable(CaVariable)
        );
        if (ClusterTarget.Resolve(parse.GetValue(Cluster)) is { } target)
            return await ClusterConnection.ConnectAsync(target, identity, cancellationToken);
        var (silo, _) = await LocalSilo.EnsureAsync(
            dataRoot ?? parse.GetValue(Data)!,
            line => Console.Error.WriteLine(line),
            cancellationToken
        );
        // The local silo listens on loopback only and knows one principal: the user who started it, by its token.
        return await ClusterConnection.ConnectAsync(
            LocalSilo.Target(silo),
            new ClientIdentity(token ?? silo.Token, null, null, null),
            cancellationToken
        );
    }

    private static string? Variable(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
