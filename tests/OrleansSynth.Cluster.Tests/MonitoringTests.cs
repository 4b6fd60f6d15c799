using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// A real Prometheus (Debian's) scrapes two silo processes while a small pipeline runs; through its HTTP API the
/// shard, tile, training and audit-model progress series rise to their totals, every expression of the Grafana
/// dashboard returns data at some point,
/// and every alert rule loads, evaluates and uses only series that exist.
/// </summary>
public sealed partial class MonitoringTests(RedisSiloProcesses cluster) : IClassFixture<RedisSiloProcesses>
{
    private static string Monitoring(string file) => Path.Combine(FindRepository(), "k8s", "base", "monitoring", file);

    [Fact]
    public async Task PromtoolAcceptsTheAlertRules()
    {
        using var promtool = new ExternalProcess("promtool", ["check", "rules", Monitoring("alerts.yml")]);
        Assert.True(await promtool.ExitCodeAsync(TimeSpan.FromMinutes(1)) == 0, promtool.Output);
        Assert.Contains("SUCCESS", promtool.Output);
    }

    [Fact]
    public async Task PrometheusFollowsAPipelineAndEveryDashboardAndAlertExpressionWorks()
    {
        var root = Path.Combine(cluster.Root, "prometheus");
        Directory.CreateDirectory(root);
        File.Copy(Monitoring("alerts.yml"), Path.Combine(root, "alerts.yml"));
        var targets = string.Join(", ", cluster.MetricsPorts.Select(p => $"\"127.0.0.1:{p}\""));
        await File.WriteAllTextAsync(
            Path.Combine(root, "prometheus.yml"),
            $$"""
            global: { scrape_interval: 1s, evaluation_interval: 1s }
            rule_files: [alerts.yml]
            scrape_configs:
              - job_name: orleanssynth
                static_configs: [{ targets: [{{targets}}] }]
            """
        );
        var port = ExternalProcess.FreePort();
        using var prometheus = new ExternalProcess(
            "prometheus",
            [
                $"--config.file={Path.Combine(root, "prometheus.yml")}",
                $"--storage.tsdb.path={Path.Combine(root, "data")}",
                $"--web.listen-address=127.0.0.1:{port}",
            ]
        );
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Monitoring("orleanssynth-dashboard.json")));
        var panels = dashboard
            .RootElement.GetProperty("panels")
            .EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString()!))
            .ToList();
        var rules = AlertExpressions(await File.ReadAllTextAsync(Monitoring("alerts.yml")));
        var series = rules.SelectMany(r => MetricName().Matches(r).Select(m => m.Value)).Distinct().ToList();
        var seen = new HashSet<string>();

        // Prometheus scrapes every silo before the pipeline starts, so even its shortest stage is scraped.
        var ready = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (await Query(http, "up == 1") is not { } up || up.Count < cluster.MetricsPorts.Count)
        {
            Assert.True(DateTime.UtcNow < ready, "Prometheus did not scrape every silo within a minute");
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
        var started = DateTimeOffset.UtcNow;

        // A small pipeline; Prometheus is asked every second what it sees.
        var run = "monitored-run";
        var coordinator = cluster.Grains.GetGrain<IPipelineCoordinatorGrain>(run);
        var diffusion = new TrainingRunSpec(
            "",
            Steps: 30,
            BatchSize: 16,
            BaseChannels: 16,
            Timesteps: 50,
            CheckpointEvery: 10
        );
        await cluster.Submit(
            coordinator,
            new PipelineSpec(
                cluster.Dataset,
                diffusion,
                diffusion with
                {
                    Steps = 10,
                },
                SampleCount: 40,
                ShardSize: 10,
                Gate: new PipelinePolicy(
                    MinimumSamples: 1,
                    RequireApproval: false,
                    MinimumCanaryRecall: 0,
                    StudentFlaggedRateCeiling: 1
                ),
                Output: "out/monitored",
                SamplerSteps: 3,
                EncoderSteps: 20,
                ClassifierSteps: 10,
                SyntheticTile: 16,
                RealTile: 256,
                Canaries: 20
            )
        );
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        PipelineStatus status;
        do
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            status = await coordinator.GetPipelineStatus();
            foreach (var expression in panels.Concat(series).Where(e => !seen.Contains(e)))
                if (await Query(http, expression) is { Count: > 0 })
                    seen.Add(expression);
        } while (status.State == WorkState.Running && DateTime.UtcNow < deadline);
        Assert.True(status.State == WorkState.Completed, $"{status.State}: {status.Error}");
        await Task.Delay(TimeSpan.FromSeconds(3)); // one more scrape of the final values
        // A series that lived between two polls (a stage's throughput) is still in the range of the whole run.
        foreach (var expression in panels.Concat(series).Where(e => !seen.Contains(e)))
            if (await QueryRange(http, expression, started) is { Count: > 0 })
                seen.Add(expression);

        // The teacher's shards rose to their total: 4 of 4.
        var shards = await Query(
            http,
            "max_over_time(orleanssynth_sampling_shards_done"
                + $"{{sampling_job=\"{RunGrainIds.TeacherSamples(run)}\"}}[10m])"
        );
        Assert.Equal("4", Assert.Single(shards!).GetProperty("value")[1].GetString());
        var tiles = await Query(
            http,
            $"max_over_time(orleanssynth_audit_tiles_done{{audit=\"{RunGrainIds.TeacherAudit(run)}\"}}[10m]) == "
                + $"max_over_time(orleanssynth_audit_tiles{{audit=\"{RunGrainIds.TeacherAudit(run)}\"}}[10m])"
        );
        Assert.Single(tiles!);
        var steps = await Query(
            http,
            $"max_over_time(orleanssynth_training_step{{run=\"{RunGrainIds.Teacher(run)}\"}}[10m])"
        );
        Assert.Equal("30", Assert.Single(steps!).GetProperty("value")[1].GetString());
        // The teacher's audit trained the encoder first (the silos' cache was empty), in view: 20 of its 20 steps.
        var encoder = await Query(
            http,
            $"max_over_time(orleanssynth_audit_model_training_step{{work=\"{RunGrainIds.TeacherAudit(run)}\","
                + $"model=\"re-identification encoder\"}}[10m])"
        );
        Assert.Equal("20", Assert.Single(encoder!).GetProperty("value")[1].GetString());

        var silent = panels.Concat(series).Except(seen).ToList();
        Assert.True(silent.Count == 0, "never returned data: " + string.Join("; ", silent));
        // Every alert expression evaluates (a parse error would be an HTTP error here).
        foreach (var rule in rules)
            Assert.NotNull(await Query(http, rule));
    }

    /// <summary>The result vector of an instant query; null when Prometheus is not up yet (not listening, or answering
    /// 503 while it starts).</summary>
    private static async Task<List<JsonElement>?> Query(HttpClient http, string expression)
    {
        try
        {
            var answer = await http.GetFromJsonAsync<JsonElement>(
                $"/api/v1/query?query={Uri.EscapeDataString(expression)}"
            );
            return answer.GetProperty("data").GetProperty("result").EnumerateArray().ToList();
        }
        catch (HttpRequestException e) when (e.StatusCode is null or HttpStatusCode.ServiceUnavailable)
        {
            return null;
        }
    }

    /// <summary>The series an expression returned at any second since <paramref name="from"/>.</summary>
    private static async Task<List<JsonElement>> QueryRange(HttpClient http, string expression, DateTimeOffset from)
    {
        var answer = await http.GetFromJsonAsync<JsonElement>(
            $"/api/v1/query_range?query={Uri.EscapeDataString(expression)}&start={from.ToUnixTimeSeconds()}&"
                + $"end={DateTimeOffset.UtcNow.ToUnixTimeSeconds()}&step=1"
        );
        return answer.GetProperty("data").GetProperty("result").EnumerateArray().ToList();
    }

    private static List<string> AlertExpressions(string yaml) =>
        yaml.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("expr: ", StringComparison.Ordinal))
            .Select(l => l["expr: ".Length..])
            .ToList();

    [GeneratedRegex(@"\b(orleanssynth_[a-z_]+|up)\b(?=\s*[\[{ )]|$)")]
    private static partial Regex MetricName();

    private static string FindRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (
                Directory.Exists(Path.Combine(dir.FullName, "k8s"))
                && File.Exists(Path.Combine(dir.FullName, "OrleansSynth.sln"))
            )
                return dir.FullName;
        throw new DirectoryNotFoundException("the repository (with k8s/) was not found above the test folder");
    }
}
