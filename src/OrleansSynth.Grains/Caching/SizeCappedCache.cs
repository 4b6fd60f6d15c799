namespace OrleansSynth.Grains.Caching;

/// <summary>
/// Values loaded once per silo and shared by the compute jobs that read them, up to a total size: past the cap the
/// least recently used are dropped. A dropped value still in use stays alive for its users (it is only unreferenced
/// here) and is loaded again by the next job that asks. Loads of one key run once at a time; a failed load is not
/// remembered, so once the cause is fixed the next call loads again. The value just asked for is never dropped, so a
/// single value larger than the cap is still served.
/// </summary>
public sealed class SizeCappedCache<TKey, TValue>(long capacityBytes, Func<TValue, long> sizeOf)
    where TKey : notnull
{
    private readonly Lock _gate = new();
    private readonly Dictionary<TKey, LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _recency = []; // most recently used first
    private long _bytes;

    public long Bytes
    {
        get
        {
            lock (_gate)
                return _bytes;
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
                return _entries.Count;
        }
    }

    public TValue GetOrLoad(TKey key, Func<TKey, TValue> load)
    {
        Entry entry;
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                entry = node.Value;
            }
            else
            {
                entry = new Entry(key, new Lazy<TValue>(() => load(key)));
                _entries[key] = _recency.AddFirst(entry);
            }
        }

        TValue value;
        try
        {
            value = entry.Value.Value;
        }
        catch
        {
            lock (_gate)
                Remove(entry);
            throw;
        }

        lock (_gate)
        {
            if (entry.Bytes == 0 && IsCached(entry))
            {
                entry.Bytes = Math.Max(1, sizeOf(value));
                _bytes += entry.Bytes;
            }
            for (var node = _recency.Last; _bytes > capacityBytes && node is not null; )
            {
                var newer = node.Previous;
                // Entries still loading have no size yet and are left to finish.
                if (node.Value != entry && node.Value.Bytes > 0)
                    Remove(node.Value);
                node = newer;
            }
        }
        return value;
    }

    private bool IsCached(Entry entry) => _entries.TryGetValue(entry.Key, out var node) && node.Value == entry;

    private void Remove(Entry entry)
    {
        if (!IsCached(entry))
            return;
        _recency.Remove(_entries[entry.Key]);
        _entries.Remove(entry.Key);
        _bytes -= entry.Bytes;
    }

    private sealed class Entry(TKey key, Lazy<TValue> value)
    {
        public TKey Key { get; } = key;
        public Lazy<TValue> Value { get; } = value;
        public long Bytes { get; set; }
    }
}
