using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansSynth.ML.Runtime;

namespace OrleansSynth.Grains.Compute;

/// <summary>
/// The per-silo compute service: a fixed number of dedicated threads (slots) that run TorchSharp work, so
/// heavy computation never blocks the Orleans scheduler. Every slot owns a device (cuda:N per GPU, else the CPU) and
/// ML work runs on the device of the slot that picks it up. Grains enqueue work and await its result; the grain stays
/// responsive meanwhile. Stopping the silo cancels running work, which checkpoints as it stops.
/// </summary>
public sealed partial class ComputeWorker : IHostedService, IDisposable
{
    /// <summary>Meter of the compute worker's gauges (slots, busy, queued), exported to Prometheus by the silo
    /// host.</summary>
    public const string MeterName = "OrleansSynth.Compute";
    private static readonly Meter Meter = new(MeterName);

    private readonly Channel<WorkItem> _queue = Channel.CreateUnbounded<WorkItem>();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger<ComputeWorker> _logger;
    private readonly Thread[] _threads;
    private readonly string[] _devices;
    private readonly int[] _busy;

    public ComputeWorker(IOptions<ComputeWorkerOptions> options, ILogger<ComputeWorker> logger)
    {
        _logger = logger;
        _devices = SlotDevices(options.Value);
        _busy = new int[_devices.Length];
        if (options.Value.TorchThreads > 0)
            TorchSharp.torch.set_num_threads(options.Value.TorchThreads);
        _threads = Enumerable
            .Range(0, _devices.Length)
            .Select(i => new Thread(() => Loop(i)) { IsBackground = true, Name = $"compute-{i}" })
            .ToArray();
        // Per device; the queue is shared by all slots of the silo (work goes to the first free one), so it has no
        // device.
        Meter.CreateObservableGauge("orleanssynth_compute_slots", () => PerDevice(_ => 1));
        Meter.CreateObservableGauge("orleanssynth_compute_busy", () =>
            PerDevice(slot => Volatile.Read(ref _busy[slot]))
        );
        Meter.CreateObservableGauge("orleanssynth_compute_queued", () => Queued);
    }

    public int Slots => _threads.Length;
    public int Busy => _busy.Sum();
    public int Queued => _queue.Reader.Count;

    /// <summary>Each slot's device, by slot.</summary>
    public IReadOnlyList<string> Devices => _devices;

    /// <summary>Runs <paramref name="work"/> on a compute slot. The token passed to it fires when either the caller or
    /// the silo stops.</summary>
    public Task<T> RunAsync<T>(
        string name,
        Func<CancellationToken, T> work,
        CancellationToken cancellationToken = default
    ) => RunAsync(name, (_, token) => work(token), cancellationToken);

    /// <summary>Runs ML <paramref name="work"/> on a compute slot, with that slot's device: every model and tensor it
    /// makes goes there.</summary>
    public Task<T> RunAsync<T>(
        string name,
        Func<TorchSharp.torch.Device, CancellationToken, T> work,
        CancellationToken cancellationToken = default
    )
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var item = new WorkItem(
            name,
            (device, token) =>
            {
                try
                {
                    completion.TrySetResult(work(device, token));
                }
                catch (OperationCanceledException e)
                {
                    completion.TrySetCanceled(e.CancellationToken);
                }
                catch (Exception e)
                {
                    completion.TrySetException(e);
                }
            },
            cancellationToken
        );
        // The silo is stopping: a cancellation, so the caller keeps its work resumable rather than failing it.
        if (!_queue.Writer.TryWrite(item))
            throw new OperationCanceledException("The compute worker is stopped: this silo is shutting down.");
        LogQueued(name, Queued);
        return completion.Task;
    }

    /// <summary>The configured devices, or one slot per visible GPU, or <see cref="ComputeWorkerOptions.CpuSlots"/> CPU
    /// slots.</summary>
    private static string[] SlotDevices(ComputeWorkerOptions options)
    {
        if (options.Devices is { Count: > 0 } configured)
        {
            // Fail at start, not at the first job: a named CUDA device must exist.
            foreach (var device in configured)
            {
                try
                {
                    ComputeDevice.Select(device);
                }
                catch (Exception e) when (e is not InvalidOperationException)
                {
                    throw new InvalidOperationException(
                        $"Compute slot device '{device}' is not usable here: {e.Message}",
                        e
                    );
                }
            }
            return [.. configured];
        }
        return ComputeDevice.GpuCount > 0
            ? Enumerable.Range(0, ComputeDevice.GpuCount).Select(i => $"cuda:{i}").ToArray()
            : Enumerable.Repeat("cpu", Math.Max(1, options.CpuSlots)).ToArray();
    }

    private IEnumerable<Measurement<int>> PerDevice(Func<int, int> value) =>
        Enumerable
            .Range(0, _devices.Length)
            .GroupBy(slot => _devices[slot])
            .Select(g => new Measurement<int>(g.Sum(value), new KeyValuePair<string, object?>("device", g.Key)));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var thread in _threads)
            thread.Start();
        LogStarted(_threads.Length, string.Join(", ", _devices));
        return Task.CompletedTask;
    }

    /// <summary>Cancels running work and waits for it to wind down (it checkpoints as it stops), within the host's
    /// shutdown budget.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync();
        var threads = _threads.Where(t => t.IsAlive).ToArray();
        await Task.Run(
                () =>
                {
                    foreach (var thread in threads)
                        thread.Join();
                },
                cancellationToken
            )
            .WaitAsync(cancellationToken);
    }

    private void Loop(int slot)
    {
        // TorchSharp devices are made on the thread that uses them.
        var device = TorchSharp.torch.device(_devices[slot]);
        try
        {
            while (_queue.Reader.WaitToReadAsync(_stopping.Token).AsTask().GetAwaiter().GetResult())
            {
                if (!_queue.Reader.TryRead(out var item))
                    continue;
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(
                    item.CancellationToken,
                    _stopping.Token
                );
                Interlocked.Increment(ref _busy[slot]);
                try
                {
                    item.Execute(device, linked.Token);
                }
                finally
                {
                    Interlocked.Decrement(ref _busy[slot]);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Silo stopping: work still queued is cancelled below.
        }
        while (_queue.Reader.TryRead(out var left))
            left.Execute(device, new CancellationToken(canceled: true));
    }

    // The token source is only cancelled, never disposed: compute threads may still be linking to it.
    public void Dispose() => _stopping.Cancel();

    private sealed record WorkItem(
        string Name,
        Action<TorchSharp.torch.Device, CancellationToken> Execute,
        CancellationToken CancellationToken
    );

    [LoggerMessage(Level = LogLevel.Information, Message = "Compute worker started with {Slots} slot(s) on {Devices}")]
    private partial void LogStarted(int slots, string devices);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Queued compute job {Name} ({Queued} waiting)")]
    private partial void LogQueued(string name, int queued);
}
