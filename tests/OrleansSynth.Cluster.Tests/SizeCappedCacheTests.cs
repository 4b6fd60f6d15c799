using OrleansSynth.Grains.Caching;

namespace OrleansSynth.Cluster.Tests;

public sealed class SizeCappedCacheTests
{
    private readonly Dictionary<string, int> _loads = [];

    private byte[] Load(string key)
    {
        _loads[key] = _loads.GetValueOrDefault(key) + 1;
        return new byte[int.Parse(key[1..])];
    }

    [Fact]
    public void PastTheCapTheLeastRecentlyUsedGoAndAreLoadedAgainWhenAsked()
    {
        var cache = new SizeCappedCache<string, byte[]>(100, value => value.Length);
        cache.GetOrLoad("a40", Load);
        cache.GetOrLoad("b40", Load);
        cache.GetOrLoad("a40", Load); // a is now the more recent
        cache.GetOrLoad("c40", Load); // 120 > 100: b goes, a stays
        Assert.Equal((2, 80L), (cache.Count, cache.Bytes));
        cache.GetOrLoad("a40", Load);
        Assert.Equal(1, _loads["a40"]);
        cache.GetOrLoad("b40", Load);
        Assert.Equal(2, _loads["b40"]);
        Assert.True(cache.Bytes <= 100);
    }

    [Fact]
    public void AValueLargerThanTheCapIsServedAndDropsTheRest()
    {
        var cache = new SizeCappedCache<string, byte[]>(100, value => value.Length);
        cache.GetOrLoad("a40", Load);
        Assert.Equal(500, cache.GetOrLoad("b500", Load).Length);
        Assert.Equal((1, 500L), (cache.Count, cache.Bytes));
    }

    [Fact]
    public void AFailedLoadIsNotRemembered()
    {
        var cache = new SizeCappedCache<string, byte[]>(100, value => value.Length);
        var fail = true;
        byte[] Flaky(string key) => fail ? throw new IOException("not there yet") : Load(key);
        Assert.Throws<IOException>(() => cache.GetOrLoad("a10", Flaky));
        Assert.Equal(0, cache.Count);
        fail = false;
        Assert.Equal(10, cache.GetOrLoad("a10", Flaky).Length);
    }

    [Fact]
    public async Task ConcurrentAsksForOneKeyLoadItOnce()
    {
        var cache = new SizeCappedCache<string, byte[]>(1000, value => value.Length);
        var loads = 0;
        byte[] Slow(string key)
        {
            Interlocked.Increment(ref loads);
            Thread.Sleep(100);
            return new byte[10];
        }
        var values = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => cache.GetOrLoad("k", Slow))));
        Assert.Equal(1, loads);
        Assert.All(values, v => Assert.Same(values[0], v));
    }
}
