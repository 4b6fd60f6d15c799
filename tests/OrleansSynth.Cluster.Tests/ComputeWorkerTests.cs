using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansSynth.Grains.Compute;

namespace OrleansSynth.Cluster.Tests;

/// <summary>The per-silo compute worker: one device per slot, handed to the ML work each slot runs, and gauges per
/// device.</summary>
public sealed class ComputeWorkerTests
{
    [Fact]
    public async Task EverySlotHandsItsDeviceToTheWorkItRuns()
    {
        using var worker = new ComputeWorker(
            Options.Create(new ComputeWorkerOptions { Devices = ["cpu", "cpu"] }),
            NullLogger<ComputeWorker>.Instance
        );
        await worker.StartAsync(CancellationToken.None);
        try
        {
            Assert.Equal(["cpu", "cpu"], worker.Devices);
            // Two jobs that wait for each other can only finish on two slots at once; each reports its slot's device.
            using var both = new Barrier(2);
            var jobs = Enumerable
                .Range(0, 2)
                .Select(i => worker.RunAsync($"job {i}", (device, _) =>
                    {
                        Assert.True(both.SignalAndWait(TimeSpan.FromSeconds(30)), "the two slots did not run at once");
                        return (device.type, Thread.CurrentThread.Name);
                    }))
                .ToList();
            var seen = await Task.WhenAll(jobs);
            Assert.All(seen, s => Assert.Equal(TorchSharp.DeviceType.CPU, s.type));
            Assert.Equal(["compute-0", "compute-1"], seen.Select(s => s.Name).Order());
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public void ANamedCudaDeviceWithoutCudaFailsAtStartNotAtTheFirstJob()
    {
        if (TorchSharp.torch.cuda.is_available())
            return; // the claim is about machines without CUDA, like this one
        var error = Assert.Throws<InvalidOperationException>(() =>
            new ComputeWorker(
                Options.Create(new ComputeWorkerOptions { Devices = ["cuda:0"] }),
                NullLogger<ComputeWorker>.Instance
            )
        );
        Assert.Contains("cuda", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task BusySlotsAreReportedPerDevice()
    {
        using var worker = new ComputeWorker(
            Options.Create(new ComputeWorkerOptions { CpuSlots = 2 }),
            NullLogger<ComputeWorker>.Instance
        );
        await worker.StartAsync(CancellationToken.None);
        using var release = new ManualResetEventSlim();
        var running = worker.RunAsync("held", _ => release.Wait(TimeSpan.FromSeconds(30)));
        try
        {
            await TwoSiloCluster.WaitFor(
                () => Task.FromResult(worker.Busy),
                busy => busy == 1,
                TimeSpan.FromSeconds(10),
                TimeSpan.FromMilliseconds(20)
            );
            var measured = new List<(string Name, int Value, string? Device)>();
            using var listener = new MeterListener();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ComputeWorker.MeterName)
                    l.EnableMeasurementEvents(instrument);
            };
            listener.SetMeasurementEventCallback<int>(
                (instrument, value, tags, _) =>
                {
                    var device = tags.ToArray().FirstOrDefault(t => t.Key == "device").Value as string;
                    lock (measured)
                        measured.Add((instrument.Name, value, device));
                }
            );
            listener.Start();
            listener.RecordObservableInstruments();
            // Other workers of this test process may report too: look at the "cpu" series as a sum over all of them.
            Assert.Contains(measured, m => m is { Name: "orleanssynth_compute_busy", Device: "cpu" } && m.Value >= 1);
            Assert.Contains(measured, m => m is { Name: "orleanssynth_compute_slots", Device: "cpu" } && m.Value >= 2);
            Assert.Contains(measured, m => m is { Name: "orleanssynth_compute_queued", Device: null });
        }
        finally
        {
            release.Set();
            await running;
            await worker.StopAsync(CancellationToken.None);
        }
    }
}
