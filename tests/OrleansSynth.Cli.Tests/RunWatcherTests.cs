using OrleansSynth.Abstractions;
using OrleansSynth.Cli.Client;
using Spectre.Console;

namespace OrleansSynth.Cli.Tests;

/// <summary>
/// How <c>synth run watch</c> and <c>synth demo</c> show a run: live bars on a terminal, a line per change in a log.
/// The run is a scripted coordinator, one status per poll, so the test sees exactly what a person would.
/// </summary>
public sealed class RunWatcherTests
{
    [Fact]
    public async Task ATerminalGetsLiveBarsWithTheStagesWrittenAboveThem()
    {
        var (console, output) = Console(interactive: true);
        var status = await RunWatcher.WatchAsync(new ScriptedRun(), "scripted", console, CancellationToken.None);

        Assert.Equal(WorkState.Completed, status.State);
        var text = output.ToString();
        Assert.Contains("\u001b[", text); // drawn in place, with cursor movements
        Assert.Contains("done: teacher (", text);
        Assert.Contains("scripted/teacher: 300/300 steps", text);
        Assert.Contains("scripted/audit: 8/8 tiles, completed", text); // the bars end at the run's final counts
        Assert.Contains("scripted/twins: 1/4 shards, cancelled", text);
        Assert.Contains("100%", text);
    }

    [Fact]
    public async Task ALogGetsALinePerChangeAndNoEscapes()
    {
        var (console, output) = Console(interactive: false);
        var status = await RunWatcher.WatchAsync(new ScriptedRun(), "scripted", console, CancellationToken.None);

        Assert.Equal(WorkState.Completed, status.State);
        var lines = output
            .ToString()
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.DoesNotContain(lines, l => l.Contains('\u001b'));
        Assert.Equal(
            [
                "scripted/teacher: 120/300 steps",
                "done: teacher (42 s) 300 steps",
                "scripted/teacher: 300/300 steps (completed)",
                "scripted/audit: 3/8 tiles",
                "scripted/audit: 8/8 tiles (completed)",
                "scripted/twins: 1/4 shards (cancelled)",
            ],
            lines
        );
    }

    private static (IAnsiConsole Console, StringWriter Output) Console(bool interactive)
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(
            new AnsiConsoleSettings
            {
                Ansi = interactive ? AnsiSupport.Yes : AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
                Out = new AnsiConsoleOutput(output),
            }
        );
        console.Profile.Width = 160;
        return (console, output);
    }

    /// <summary>A run that trains, finishes its teacher while an audit starts, then ends; one step per status
    /// poll.</summary>
    private sealed class ScriptedRun : IPipelineCoordinatorGrain
    {
        private static readonly DateTimeOffset Start = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
        private int _poll = -1;

        public Task<PipelineStatus> GetPipelineStatus()
        {
            _poll++;
            var teacher =
                _poll == 0
                    ? new StageStatus("teacher", WorkState.Running, Start, null, null)
                    : new StageStatus("teacher", WorkState.Completed, Start, Start.AddSeconds(42), "300 steps");
            return Task.FromResult(
                new PipelineStatus(_poll < 2 ? WorkState.Running : WorkState.Completed, [teacher], null, null)
            );
        }

        public Task<IReadOnlyList<WorkProgress>> GetProgress() =>
            Task.FromResult<IReadOnlyList<WorkProgress>>(
                _poll switch
                {
                    0 => [new WorkProgress("scripted/teacher", WorkState.Running, 120, 300, "steps")],
                    1 =>
                    [
                        new WorkProgress("scripted/teacher", WorkState.Completed, 300, 300, "steps"),
                        new WorkProgress("scripted/audit", WorkState.Running, 3, 8, "tiles"),
                    ],
                    // Asked once more after the run ended: the audit finished, a twins job was cancelled.
                    _ =>
                    [
                        new WorkProgress("scripted/teacher", WorkState.Completed, 300, 300, "steps"),
                        new WorkProgress("scripted/audit", WorkState.Completed, 8, 8, "tiles"),
                        new WorkProgress("scripted/twins", WorkState.Cancelled, 1, 4, "shards"),
                    ],
                }
            );

        public Task<PipelineStatus> Run(PipelineSpec spec) => throw new NotSupportedException();

        public Task<PipelineStatus> Retry() => throw new NotSupportedException();

        public Task<PipelineStatus> Cancel() => throw new NotSupportedException();

        public Task Configure(PipelinePolicy policy) => throw new NotSupportedException();

        public Task AttachAudit(string auditId, IReadOnlyList<string> sampleIds, IReadOnlyList<ArtifactRef> bundles) =>
            throw new NotSupportedException();

        public Task<FilteredSet> ApplyFilter() => throw new NotSupportedException();

        public Task Approve(string? note) => throw new NotSupportedException();

        public Task<GateDecision> RequestDistillation(string requestedBy) => throw new NotSupportedException();

        public Task<TrainingStatus> StartStudent(string runId, TrainingRunSpec template, string requestedBy) =>
            throw new NotSupportedException();

        public Task<IReadOnlyList<GateDecision>> GetDecisions() => throw new NotSupportedException();

        public Task<ReleaseManifest?> GetRelease() => throw new NotSupportedException();

        public Task<byte[]> ReadReleaseFile(string path, long offset, int count) => throw new NotSupportedException();

        public Task<ArtifactRef?> GetInternalReport() => throw new NotSupportedException();

        public Task<byte[]> ReadInternalReport(long offset, int count) => throw new NotSupportedException();
    }
}
