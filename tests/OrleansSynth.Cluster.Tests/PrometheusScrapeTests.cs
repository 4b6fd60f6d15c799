using System.Net.Http.Json;
using System.Text.Json;

namespace OrleansSynth.Cluster.Tests;

/// <summary>A real Prometheus (started by the test) scrapes a real silo process's /metrics endpoint.</summary>
public sealed class PrometheusScrapeTests : IDisposable
{
    private readonly string _root = Path.Combine(
        Path.GetTempPath(),
        "orleanssynth-prometheus-tests",
        Guid.NewGuid().ToString("N")
    );
    private readonly List<ExternalProcess> _processes = [];

    [Fact]
    public async Task PrometheusScrapesTheComputeWorkerGaugesFromAnEmbeddedSilo()
    {
        Directory.CreateDirectory(_root);
        var (siloHttp, prometheusPort) = (ExternalProcess.FreePort(), ExternalProcess.FreePort());
        var silo = Start(
            new ExternalProcess(
                "dotnet",
                [
                    Path.Combine(AppContext.BaseDirectory, "orleanssynth-silo.dll"),
                    "--OrleansSynth:Mode=embedded",
                    $"--OrleansSynth:DataRoot={Path.Combine(_root, "data")}",
                    "--OrleansSynth:CpuSlots=2",
                    $"--OrleansSynth:SiloPort={ExternalProcess.FreePort()}",
                    $"--OrleansSynth:GatewayPort={ExternalProcess.FreePort()}",
                    $"--Urls=http://127.0.0.1:{siloHttp}",
                ]
            )
        );
        var config = Path.Combine(_root, "prometheus.yml");
        await File.WriteAllTextAsync(
            config,
            $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: orleanssynth-silo
                static_configs:
                  - targets: ['127.0.0.1:{siloHttp}']
            """
        );
        var prometheus = Start(
            new ExternalProcess(
                "prometheus",
                [
                    $"--config.file={config}",
                    $"--storage.tsdb.path={Path.Combine(_root, "tsdb")}",
                    $"--web.listen-address=127.0.0.1:{prometheusPort}",
                ]
            )
        );

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var slots = await TwoSiloCluster.WaitFor(
            async () =>
            {
                try
                {
                    var answer = await http.GetFromJsonAsync<JsonElement>(
                        $"http://127.0.0.1:{prometheusPort}/api/v1/query?query=orleanssynth_compute_slots"
                    );
                    var result = answer.GetProperty("data").GetProperty("result");
                    return result.GetArrayLength() > 0 ? result[0].GetProperty("value")[1].GetString() : null;
                }
                catch (HttpRequestException)
                {
                    return null; // Prometheus still starting
                }
            },
            value => value is not null,
            TimeSpan.FromMinutes(2),
            TimeSpan.FromSeconds(1)
        );

        Assert.True(
            slots == "2",
            $"Prometheus saw orleanssynth_compute_slots = "
                + $"{slots ?? "nothing"}.\nsilo:\n{silo.Output}\nprometheus:\n{prometheus.Output}"
        );
    }

    private ExternalProcess Start(ExternalProcess process)
    {
        _processes.Add(process);
        return process;
    }

    public void Dispose()
    {
        foreach (var process in _processes)
            process.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException) { }
    }
}
