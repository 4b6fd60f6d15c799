namespace OrleansSynth.Grains.FanOut;

/// <summary>A part's stored result; none while it is unfinished.</summary>
[GenerateSerializer]
public sealed class FanOutPartState<TResult>
    where TResult : class
{
    [Id(0)]
    public TResult? Result { get; set; }

    /// <summary>The fingerprint of the spec the part was first polled with; a poll with another is refused.</summary>
    [Id(1)]
    public string? Spec { get; set; }
}
