using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace OrleansSynth.Cli.Connection;

/// <summary>An Orleans client connected to a cluster's gateways; disposing it disconnects.</summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    /// <summary>How long a client tries to reach the cluster before giving up with exit code 3.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(12);

    private readonly IHost _host;

    private ClusterConnection(IHost host, ClusterTarget target)
    {
        _host = host;
        Target = target;
    }

    public ClusterTarget Target { get; }
    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();
    public IGrainFactory Grains => Client;

    public static async Task<ClusterConnection> ConnectAsync(
        ClusterTarget target,
        ClientIdentity identity,
        CancellationToken cancellationToken
    )
    {
        var credentials = identity.Credentials();
        var builder = Host.CreateApplicationBuilder([]);
        // The console belongs to the command's output; the client's own notes are not for this user.
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (target.ClusterId, target.ServiceId));
            if (target.Redis is { } redis)
                client.UseRedisClustering(redis);
            else if (target.AzureTables is not null)
                client.UseAzureStorageClustering(gateways => gateways.TableServiceClient = target.AzureTableClient());
            else
                client.UseStaticClustering(target.Gateways.ToArray());
            if (credentials is not null)
                client.AddOutgoingGrainCallFilter(credentials);
            if (identity.UsesTls)
                UseMutualTls(client, identity);
            // Keep trying while the deadline below runs: a silo may still be starting.
            client.UseConnectionRetryFilter(
                async (_, token) =>
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(500), token);
                    return true;
                }
            );
        });
        var host = builder.Build();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(ConnectTimeout);
        try
        {
            // WaitAsync bounds it even if a provider blocks without watching the token (an unreachable Redis).
            await host.StartAsync(deadline.Token)
                .WaitAsync(ConnectTimeout + TimeSpan.FromSeconds(1), cancellationToken);
            return new ClusterConnection(host, target);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            // A TLS refusal looks like any closed connection from here: say what to check.
            var hint =
                identity.UsesTls
                    ? "; if the cluster is up, check that --cert is signed by the cluster's CA and --ca is that CA"
                : target.Redis is not null
                || target.AzureTables is not null
                || target.Gateways.Any(g => !System.Net.IPAddress.IsLoopback(g.Address))
                    ? "; a cluster beyond this machine takes mutual TLS: give --cert, --key and --ca"
                : "";
            throw new ClusterUnreachableException(
                $"cannot reach the cluster at {target} within {ConnectTimeout.TotalSeconds:F0} s "
                    + $"({e.GetBaseException().Message}){hint}"
            );
        }
    }

    /// <summary>Mutual TLS to the gateways: this client's certificate, and only silos whose certificate the CA
    /// signed.</summary>
    private static void UseMutualTls(IClientBuilder client, ClientIdentity identity)
    {
        var authority = identity.Authority();
        client.UseTls(identity.Certificate(), tls =>
        {
            tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            tls.RemoteCertificateValidation = (certificate, _, _) =>
                Abstractions.ClusterCertificates.ChainsTo(certificate, authority);
        });
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            _host.Dispose();
        }
    }
}
