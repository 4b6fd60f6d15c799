using System.Diagnostics;

namespace OrleansSynth.Cluster.Tests;

/// <summary>The real `synth` client as a separate process, as a user runs it; its output and exit code.</summary>
internal static class SynthCli
{
    /// <summary>
    /// The client as built in its own project: its output holds what it needs and nothing of the silo's (this test
    /// folder shares the silo's ASP.NET Core framework, which the client does not run on).
    /// </summary>
    public static string Assembly { get; } = Find();

    /// <summary>src/OrleansSynth.Cli/bin/&lt;configuration&gt;/&lt;tfm&gt;, from
    /// tests/OrleansSynth.Cluster.Tests/bin/&lt;configuration&gt;/&lt;tfm&gt;.</summary>
    public static string OutputFolder
    {
        get
        {
            var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            return Path.Combine(
                here.Parent!.Parent!.Parent!.Parent!.Parent!.FullName,
                "src",
                "OrleansSynth.Cli",
                "bin",
                here.Parent.Name,
                here.Name
            );
        }
    }

    private static string Find()
    {
        var path = Path.Combine(OutputFolder, "synth.dll");
        if (!File.Exists(path))
            throw new FileNotFoundException("the synth client was not built in its project folder", path);
        return path;
    }

    public sealed record Result(int ExitCode, string Output, TimeSpan Elapsed);

    /// <summary>Runs `synth <paramref name="arguments"/>` to its end (failing after <paramref
    /// name="timeout"/>).</summary>
    public static async Task<Result> RunAsync(
        IEnumerable<string> arguments,
        TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? environment = null
    )
    {
        var clock = Stopwatch.StartNew();
        using var process = Start(arguments, environment);
        var exit = await process.ExitCodeAsync(timeout ?? TimeSpan.FromMinutes(2));
        return new Result(exit, process.Output, clock.Elapsed);
    }

    public static ExternalProcess Start(
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null
    ) => new("dotnet", [Assembly, .. arguments], environment: environment);
}
