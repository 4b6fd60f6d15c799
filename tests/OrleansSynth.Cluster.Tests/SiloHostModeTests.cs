using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansSynth.Silo.Hosting;
using OrleansSynth.Tests.Shared;

namespace OrleansSynth.Cluster.Tests;

/// <summary>
/// The silo host's Kubernetes mode, short of a Kubernetes cluster (none exists here): the silo takes its name, address
/// and cluster ids from the pod's environment as the manifests set it. Built, not started (starting would call the
/// Kubernetes API).
/// </summary>
public sealed class SiloHostModeTests
{
    [Fact]
    public void KubernetesModeTakesTheSilosIdentityFromThePod()
    {
        var pod = new Dictionary<string, string>
        {
            ["POD_NAME"] = "orleanssynth-silo-7d9f-abcde",
            ["POD_NAMESPACE"] = "orleanssynth",
            ["POD_IP"] = "10.1.2.3",
            ["ORLEANS_SERVICE_ID"] = "orleanssynth-svc",
            ["ORLEANS_CLUSTER_ID"] = "orleanssynth-cluster",
        };
        foreach (var (name, value) in pod)
            Environment.SetEnvironmentVariable(name, value);
        var certificates = new TestCertificates(
            Path.Combine(Path.GetTempPath(), "orleanssynth-k8s-mode", Guid.NewGuid().ToString("N"))
        );
        try
        {
            var builder = Host.CreateApplicationBuilder();
            builder.UseOrleans(silo =>
                OrleansSynthSilo.Configure(
                    silo,
                    new SiloHostOptions
                    {
                        Mode = "kubernetes",
                        Redis = "127.0.0.1:1",
                        AdvertisedIp = "10.1.2.3", // as the manifests set it, from status.podIP
                        Tls = new SiloTlsOptions
                        {
                            CertificateFile = certificates.Certificate("silo"),
                            KeyFile = certificates.Key("silo"),
                            CaFile = certificates.CaFile,
                        },
                    }
                )
            );
            using var host = builder.Build();

            var cluster = host.Services.GetRequiredService<IOptions<ClusterOptions>>().Value;
            Assert.Equal(("orleanssynth-cluster", "orleanssynth-svc"), (cluster.ClusterId, cluster.ServiceId));
            Assert.Equal(
                "orleanssynth-silo-7d9f-abcde",
                host.Services.GetRequiredService<IOptions<SiloOptions>>().Value.SiloName
            );
            var endpoints = host.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
            Assert.Equal(IPAddress.Parse("10.1.2.3"), endpoints.AdvertisedIPAddress);
            Assert.Equal((11111, 30000), (endpoints.SiloPort, endpoints.GatewayPort));
        }
        finally
        {
            foreach (var name in pod.Keys)
                Environment.SetEnvironmentVariable(name, null);
            Directory.Delete(certificates.Folder, recursive: true);
        }
    }

    [Fact]
    public void AzureModeNeedsAConnectionStringOrTheAccountsEndpoints()
    {
        var certificates = new TestCertificates(
            Path.Combine(Path.GetTempPath(), "orleanssynth-azure-mode", Guid.NewGuid().ToString("N"))
        );
        try
        {
            var builder = Host.CreateApplicationBuilder();
            var error = Assert.Throws<InvalidOperationException>(() =>
                builder.UseOrleans(silo =>
                    OrleansSynthSilo.Configure(
                        silo,
                        new SiloHostOptions
                        {
                            Mode = "azure",
                            Tls = new SiloTlsOptions
                            {
                                CertificateFile = certificates.Certificate("silo"),
                                KeyFile = certificates.Key("silo"),
                                CaFile = certificates.CaFile,
                            },
                        }
                    )
                )
            );
            Assert.Contains("OrleansSynth:Azure:ConnectionString", error.Message);
        }
        finally
        {
            Directory.Delete(certificates.Folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("kubernetes")]
    [InlineData("azure")]
    public void AModeThatListensBeyondLoopbackDoesNotStartWithoutMutualTls(string mode)
    {
        var builder = Host.CreateApplicationBuilder();
        var error = Assert.Throws<InvalidOperationException>(() =>
            builder.UseOrleans(silo =>
                OrleansSynthSilo.Configure(silo, new SiloHostOptions { Mode = mode, Redis = "127.0.0.1:1" })
            )
        );
        Assert.Contains("needs mutual TLS", error.Message);
    }

    [Fact]
    public void AnUnknownModeIsRefusedNamingTheModes()
    {
        var builder = Host.CreateApplicationBuilder();
        var error = Assert.Throws<InvalidOperationException>(() =>
            builder.UseOrleans(silo => OrleansSynthSilo.Configure(silo, new SiloHostOptions { Mode = "kubernetis" }))
        );
        Assert.Contains("'embedded', 'redis', 'kubernetes' or 'azure'", error.Message);
    }
}
