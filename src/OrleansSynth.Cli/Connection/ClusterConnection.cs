using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace OrleansSynth.Cli.Connection;

/// <summary>An Orleans client connected to a cluster's gateways; disposing it disconnects.</summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    /// <summary>How long a client tries to reach the cluster before giving up with exit code 3.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(12);

    private readonly IHost _host;

    private ClusterConnection(IHost host, ClusterTarget target, string? operatorToken)
    {
        _host = host;
        Target = target;
        OperatorToken = operatorToken;
    }

    public ClusterTarget Target { get; }
    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();
    public IGrainFactory Grains => Client;

    /// <summary>The operator token to send with operator actions (from --token, the environment, or the local silo).</summary>
    public string? OperatorToken { get; }

    public static async Task<ClusterConnection> ConnectAsync(ClusterTarget target, string? operatorToken, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder([]);
        // The console belongs to the command's output; the client's own notes are not for this user.
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (target.ClusterId, target.ServiceId));
            if (target.Redis is { } redis) client.UseRedisClustering(redis);
            else client.UseStaticClustering(target.Gateways.ToArray());
            // Keep trying while the deadline below runs: a silo may still be starting.
            client.UseConnectionRetryFilter(async (_, token) =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), token);
                return true;
            });
        });
        var host = builder.Build();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(ConnectTimeout);
        try
        {
            // WaitAsync bounds it even if a provider blocks without watching the token (an unreachable Redis).
            await host.StartAsync(deadline.Token).WaitAsync(ConnectTimeout + TimeSpan.FromSeconds(1), cancellationToken);
            return new ClusterConnection(host, target, operatorToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            throw new ClusterUnreachableException($"cannot reach the cluster at {target} within {ConnectTimeout.TotalSeconds:F0} s ({e.GetBaseException().Message})");
        }
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
