using System.CommandLine;

namespace OrleansSynth.Cli.Connection;

/// <summary>The options every command shares: which cluster, which operator token, which local data folder, JSON output.</summary>
internal static class ClientOptions
{
    public const string TokenVariable = "ORLEANSSYNTH_OPERATOR_TOKEN";
    public const string DataVariable = "ORLEANSSYNTH_DATA";

    public static readonly Option<string?> Cluster = new("--cluster")
    {
        Description = $"The cluster: host:port[,host:port] of its gateways, or redis://host:port of its membership. Default: {ClusterTarget.Variable}, then {ClusterTarget.ConfigFile}; none: a local silo.",
        Recursive = true,
    };

    public static readonly Option<string?> Token = new("--token")
    {
        Description = $"Operator token for approve, cancel and internal reports (default: {TokenVariable}; a local silo's own token).",
        Recursive = true,
    };

    public static readonly Option<string> Data = new("--data")
    {
        Description = $"Local silo only: the folder of its data (default: {DataVariable}, else out/local).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(DataVariable) is { Length: > 0 } data ? data : Path.Combine("out", "local"),
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json") { Description = "Print JSON for scripts instead of text.", Recursive = true };

    public static void AddTo(RootCommand root)
    {
        root.Options.Add(Cluster);
        root.Options.Add(Token);
        root.Options.Add(Data);
        root.Options.Add(Json);
    }

    /// <summary>Connects to the named cluster, or to the local silo of <paramref name="dataRoot"/> (started if needed).</summary>
    public static async Task<ClusterConnection> ConnectAsync(ParseResult parse, CancellationToken cancellationToken, string? dataRoot = null)
    {
        var token = parse.GetValue(Token) ?? Environment.GetEnvironmentVariable(TokenVariable);
        if (ClusterTarget.Resolve(parse.GetValue(Cluster)) is { } target) return await ClusterConnection.ConnectAsync(target, token, cancellationToken);
        var (silo, _) = await LocalSilo.EnsureAsync(dataRoot ?? parse.GetValue(Data)!, line => Console.Error.WriteLine(line), cancellationToken);
        return await ClusterConnection.ConnectAsync(LocalSilo.Target(silo), token ?? silo.Token, cancellationToken);
    }
}
