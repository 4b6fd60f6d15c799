using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansSynth.ML.Runtime;

namespace OrleansSynth.Grains.Compute;

/// <summary>
/// The per-silo compute service: a fixed number of dedicated threads (slots) that run TorchSharp work, so
/// heavy computation never blocks the Orleans scheduler. Grains enqueue work and await its result; the
/// grain stays responsive meanwhile. Stopping the silo cancels running work, which checkpoints as it stops.
/// </summary>
public sealed partial class ComputeWorker : IHostedService, IDisposable
{
    /// <summary>Meter of the compute worker's gauges (slots, busy, queued), exported to Prometheus by the silo host.</summary>
    public const string MeterName = "OrleansSynth.Compute";
    private static readonly Meter Meter = new(MeterName);

    private readonly Channel<WorkItem> _queue = Channel.CreateUnbounded<WorkItem>();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger<ComputeWorker> _logger;
    private readonly Thread[] _threads;
    private int _busy;

    public ComputeWorker(IOptions<ComputeWorkerOptions> options, ILogger<ComputeWorker> logger)
    {
        _logger = logger;
        var slots = ComputeDevice.GpuCount > 0 ? ComputeDevice.GpuCount : Math.Max(1, options.Value.CpuSlots);
        if (options.Value.TorchThreads > 0) TorchSharp.torch.set_num_threads(options.Value.TorchThreads);
        _threads = Enumerable.Range(0, slots).Select(i => new Thread(() => Loop(i)) { IsBackground = true, Name = $"compute-{i}" }).ToArray();
        Meter.CreateObservableGauge("orleanssynth_compute_slots", () => Slots);
        Meter.CreateObservableGauge("orleanssynth_compute_busy", () => Busy);
        Meter.CreateObservableGauge("orleanssynth_compute_queued", () => Queued);
    }

    public int Slots => _threads.Length;
    public int Busy => Volatile.Read(ref _busy);
    public int Queued => _queue.Reader.Count;

    /// <summary>Runs <paramref name="work"/> on a compute slot. The token passed to it fires when either the caller or the silo stops.</summary>
    public Task<T> RunAsync<T>(string name, Func<CancellationToken, T> work, CancellationToken cancellationToken = default)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var item = new WorkItem(name, token =>
        {
            try
            {
                completion.TrySetResult(work(token));
            }
            catch (OperationCanceledException e)
            {
                completion.TrySetCanceled(e.CancellationToken);
            }
            catch (Exception e)
            {
                completion.TrySetException(e);
            }
        }, cancellationToken);
        // The silo is stopping: a cancellation, so the caller keeps its work resumable rather than failing it.
        if (!_queue.Writer.TryWrite(item)) throw new OperationCanceledException("The compute worker is stopped: this silo is shutting down.");
        LogQueued(name, Queued);
        return completion.Task;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var thread in _threads) thread.Start();
        LogStarted(_threads.Length, ComputeDevice.Select());
        return Task.CompletedTask;
    }

    /// <summary>Cancels running work and waits for it to wind down (it checkpoints as it stops), within the host's shutdown budget.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync();
        var threads = _threads.Where(t => t.IsAlive).ToArray();
        await Task.Run(() => { foreach (var thread in threads) thread.Join(); }, cancellationToken).WaitAsync(cancellationToken);
    }

    private void Loop(int slot)
    {
        try
        {
            while (_queue.Reader.WaitToReadAsync(_stopping.Token).AsTask().GetAwaiter().GetResult())
            {
                if (!_queue.Reader.TryRead(out var item)) continue;
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(item.CancellationToken, _stopping.Token);
                Interlocked.Increment(ref _busy);
                try
                {
                    item.Execute(linked.Token);
                }
                finally
                {
                    Interlocked.Decrement(ref _busy);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Silo stopping: work still queued is cancelled below.
        }
        while (_queue.Reader.TryRead(out var left)) left.Execute(new CancellationToken(canceled: true));
    }

    // The token source is only cancelled, never disposed: compute threads may still be linking to it.
    public void Dispose() => _stopping.Cancel();

    private sealed record WorkItem(string Name, Action<CancellationToken> Execute, CancellationToken CancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Compute worker started with {Slots} slot(s) on {Device}")]
    private partial void LogStarted(int slots, TorchSharp.torch.Device device);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Queued compute job {Name} ({Queued} waiting)")]
    private partial void LogQueued(string name, int queued);
}
