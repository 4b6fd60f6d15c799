using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansSynth.Abstractions;
using OrleansSynth.Grains.Security;

namespace OrleansSynth.Grains.Pipeline;

/// <summary>
/// The cluster's runs by name. A name is bound to the spec it was first submitted with (by a hash of the spec), so
/// submitting the same name again resumes nothing by accident: the same spec is the same run, another spec is refused.
/// </summary>
public sealed partial class RunRegistryGrain(
    [PersistentState("runs", GrainStorageNames.Default)] IPersistentState<RunRegistryState> state,
    IOptions<ClusterLimitsOptions> limits,
    ILogger<RunRegistryGrain> logger
) : Grain, IRunRegistryGrain
{
    public async Task<RunSummary> Submit(string? name, PipelineSpec spec)
    {
        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2));
        name ??= $"run-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss}-{suffix}";
        if (name.Length is 0 or > 100 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            throw new ArgumentException(
                $"Run name '{name}': use 1 to 100 letters, digits, '-', '_' or '.'.",
                nameof(name)
            );
        var fingerprint = Fingerprint(spec);
        var existing = state.State.Runs.FirstOrDefault(r => r.Name == name);
        if (existing is not null && existing.SpecFingerprint != fingerprint)
            throw new ArgumentException(
                $"Run '{name}' exists with a different spec; submit under another name (--name).",
                nameof(spec)
            );
        var owner = CallerPrincipal.Current?.Name;
        if (existing is not null && !CallerPrincipal.MaySee(existing.Owner))
            throw new ArgumentException(
                $"Run name '{name}' is taken; submit under another name (--name).",
                nameof(name)
            );
        if (existing is null)
            await DemandRunningUnderLimit(owner);
        var coordinator = GrainFactory.GetGrain<IPipelineCoordinatorGrain>(name);
        var status = await coordinator.Run(spec);
        var created = existing is null;
        if (existing is null)
        {
            existing = new RegisteredRun
            {
                Name = name,
                SpecFingerprint = fingerprint,
                SubmittedAt = DateTimeOffset.UtcNow,
                Strategy = spec.Strategy.ToString(),
                Owner = owner,
            };
            state.State.Runs.Add(existing);
            await state.WriteStateAsync();
            LogSubmitted(name, spec.Strategy.ToString());
        }
        return Summary(existing, status) with { Created = created };
    }

    /// <summary>The runs the caller may see: a submitter's own, or every run for an operator.</summary>
    public async Task<IReadOnlyList<RunSummary>> List()
    {
        var visible = state.State.Runs.Where(r => CallerPrincipal.MaySee(r.Owner)).ToList();
        var statuses = await Task.WhenAll(
            visible.Select(r => GrainFactory.GetGrain<IPipelineCoordinatorGrain>(r.Name).GetPipelineStatus())
        );
        return visible.Zip(statuses, Summary).ToList();
    }

    /// <summary>One principal's unfinished runs are bounded: each holds silos' compute for hours.</summary>
    private async Task DemandRunningUnderLimit(string? owner)
    {
        if (owner is null)
            return;
        var own = state.State.Runs.Where(r => r.Owner == owner).ToList();
        var statuses = await Task.WhenAll(
            own.Select(r => GrainFactory.GetGrain<IPipelineCoordinatorGrain>(r.Name).GetPipelineStatus())
        );
        var running = statuses.Count(s => s.State == WorkState.Running);
        if (running >= limits.Value.MaxRunningRunsPerPrincipal)
            throw new ArgumentException(
                $"{owner} has {running} unfinished runs, the cluster's limit (runs per principal); wait for one to end."
            );
    }

    private static RunSummary Summary(RegisteredRun run, PipelineStatus status) =>
        new(
            run.Name,
            run.SubmittedAt,
            run.Strategy,
            status.State,
            status.Stages.LastOrDefault(s => s.State == WorkState.Running)?.Name ?? status.Stages.LastOrDefault()?.Name
        );

    /// <summary>SHA-256 of the spec's JSON: the same spec always gives the same fingerprint.</summary>
    public static string Fingerprint(PipelineSpec spec) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(spec)));

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {Run} submitted ({Strategy})")]
    private partial void LogSubmitted(string run, string strategy);
}

[GenerateSerializer]
public sealed class RunRegistryState
{
    [Id(0)]
    public List<RegisteredRun> Runs { get; set; } = [];
}

[GenerateSerializer]
public sealed class RegisteredRun
{
    [Id(0)]
    public string Name { get; set; } = "";

    [Id(1)]
    public string SpecFingerprint { get; set; } = "";

    [Id(2)]
    public DateTimeOffset SubmittedAt { get; set; }

    [Id(3)]
    public string Strategy { get; set; } = "";

    /// <summary>The principal that submitted it (null: submitted before principals, visible to operators
    /// only).</summary>
    [Id(4)]
    public string? Owner { get; set; }
}
