using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Cluster.Tests;

/// <summary>The Orleans dashboard, switched on in a silo process, opened in headless Chromium (Debian's): silos and
/// grain types on the page.</summary>
public sealed class OrleansDashboardTests : IDisposable
{
    private readonly string _root = Path.Combine(
        Path.GetTempPath(),
        "orleanssynth-dashboard-tests",
        Guid.NewGuid().ToString("N")
    );

    private const string Token = "dashboard-test-token";

    [Fact]
    public async Task TheDashboardShowsTheSiloAndTheGrainsItRuns()
    {
        Directory.CreateDirectory(_root);
        var (siloPort, gatewayPort, httpPort) = (
            ExternalProcess.FreePort(),
            ExternalProcess.FreePort(),
            ExternalProcess.FreePort()
        );
        using var silo = new ExternalProcess(
            "dotnet",
            [
                Path.Combine(AppContext.BaseDirectory, "orleanssynth-silo.dll"),
                $"--OrleansSynth:DataRoot={_root}",
                "--OrleansSynth:Dashboard=true",
                $"--OrleansSynth:SiloPort={siloPort}",
                $"--OrleansSynth:GatewayPort={gatewayPort}",
                $"--Urls=http://127.0.0.1:{httpPort}",
            ],
            environment: new Dictionary<string, string> { ["OrleansSynth__OperatorToken"] = Token }
        );

        // A call through a client (the embedded silo's token holder, as `synth` is) activates a grain of ours for the
        // page to show.
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(client =>
            client
                .UseStaticClustering(new IPEndPoint(IPAddress.Loopback, gatewayPort))
                .Configure<Orleans.Configuration.ClusterOptions>(o =>
                    (o.ClusterId, o.ServiceId) = ("orleanssynth", "orleanssynth")
                )
                .AddOutgoingGrainCallFilter(Cli.Connection.ClientCredentials.FromToken(Token))
        );
        using var client = builder.Build();
        await TwoSiloCluster.WaitFor(
            async () =>
            {
                try
                {
                    await client.StartAsync();
                    return true;
                }
                catch (Exception)
                {
                    await Task.Delay(500);
                    return false;
                }
            },
            started => started,
            TimeSpan.FromMinutes(1)
        );
        await client
            .Services.GetRequiredService<IClusterClient>()
            .GetGrain<IRunRegistryGrain>(IRunRegistryGrain.Key)
            .List();

        var grains = await Page($"http://127.0.0.1:{httpPort}/dashboard/#/grains", "RunRegistryGrain");
        Assert.Contains("RunRegistryGrain", grains);
        var silos = await Page($"http://127.0.0.1:{httpPort}/dashboard/#/silos", $"127.0.0.1:{siloPort}");
        Assert.Contains($"127.0.0.1:{siloPort}", silos);

        var screenshot = Path.Combine(Path.GetTempPath(), "orleanssynth-dashboard.png");
        using var shot = Chromium(
            $"--screenshot={screenshot}",
            "--window-size=1400,1000",
            $"http://127.0.0.1:{httpPort}/dashboard/"
        );
        await shot.ExitCodeAsync(TimeSpan.FromMinutes(1));
        Assert.True(File.Exists(screenshot), shot.Output);
        Console.WriteLine($"dashboard screenshot: {screenshot}");
        await client.StopAsync();
    }

    /// <summary>The page's DOM after its scripts ran, read until it holds <paramref name="expected"/> (the dashboard
    /// polls).</summary>
    private static async Task<string> Page(string url, string expected)
    {
        var dom = "";
        for (var attempt = 0; attempt < 10 && !dom.Contains(expected); attempt++)
        {
            using var chromium = Chromium("--virtual-time-budget=15000", "--dump-dom", url);
            await chromium.ExitCodeAsync(TimeSpan.FromMinutes(1));
            dom = chromium.Output;
        }
        return dom;
    }

    private static ExternalProcess Chromium(params string[] arguments) =>
        new(
            "chromium",
            [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--user-data-dir=" + Path.Combine(Path.GetTempPath(), $"chromium-{Guid.NewGuid():N}"),
                .. arguments,
            ]
        );

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException) { }
    }
}
