using System.Text.RegularExpressions;
using OrleansSynth.Cli.Commands;

namespace OrleansSynth.Cli.Tests;

/// <summary>The README and docs/ as a reader meets them: every relative link resolves, every `synth` command
/// parses.</summary>
public sealed partial class ReadmeTests
{
    private static readonly string Root = FindRepositoryRoot();

    public static TheoryData<string> Pages =>
        new(
            new[] { "README.md" }.Concat(
                Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Select(f => Path.GetRelativePath(Root, f))
            )
        );

    [Theory]
    [MemberData(nameof(Pages))]
    public void EveryRelativeLinkResolves(string page)
    {
        var folder = Path.GetDirectoryName(Path.Combine(Root, page))!;
        var broken = LinkPattern()
            .Matches(File.ReadAllText(Path.Combine(Root, page)))
            .Select(m => m.Groups[1].Value)
            .Where(target => !target.Contains("://") && !target.StartsWith('#') && !target.StartsWith("mailto:"))
            .Where(target => !Path.Exists(Path.Combine(folder, target.Split('#')[0])))
            .ToList();
        Assert.True(broken.Count == 0, $"{page} links to what is not there: {string.Join(", ", broken)}");
    }

    [Fact]
    public void TheReadmesSynthCommandsParseAsTheClientsCommands()
    {
        var commands = File.ReadAllLines(Path.Combine(Root, "README.md"))
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("synth ", StringComparison.Ordinal))
            .Select(l => l.Split(" #")[0].Trim())
            .ToList();
        Assert.True(commands.Count >= 5, $"found only {commands.Count} synth commands in the README");
        foreach (var command in commands)
        {
            var parsed = SynthCommand.Create().Parse(Arguments(command["synth ".Length..]));
            Assert.True(
                parsed.Errors.Count == 0,
                $"'{command}': {string.Join("; ", parsed.Errors.Select(e => e.Message))}"
            );
        }
    }

    /// <summary>Splits as a shell would for these lines: on spaces, with double quotes grouping.</summary>
    private static string[] Arguments(string line) =>
        ArgumentPattern().Matches(line).Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Value).ToArray();

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "OrleansSynth.sln")))
            directory = directory.Parent;
        return directory?.FullName
            ?? throw new InvalidOperationException("OrleansSynth.sln not found above the tests.");
    }

    // Markdown links and images: ](target), the target up to a space or the closing parenthesis.
    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex LinkPattern();

    [GeneratedRegex("\"([^\"]*)\"|\\S+")]
    private static partial Regex ArgumentPattern();
}
