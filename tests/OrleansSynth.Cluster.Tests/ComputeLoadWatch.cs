using OrleansSynth.Grains.Compute;

namespace OrleansSynth.Cluster.Tests;

/// <summary>Samples the compute workers of in-process silos every few milliseconds: the most jobs queued or running at
/// once, cluster-wide.</summary>
internal sealed class ComputeLoadWatch : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private int _most;

    public ComputeLoadWatch(IEnumerable<ComputeWorker> workers)
    {
        var all = workers.ToList();
        _sampling = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                var load = all.Sum(w => w.Busy + w.Queued);
                if (load > _most)
                    _most = load;
                await Task.Delay(5);
            }
        });
    }

    public int MostInFlight => Volatile.Read(ref _most);

    public void Dispose()
    {
        _stop.Cancel();
        _sampling.Wait();
        _stop.Dispose();
    }
}
