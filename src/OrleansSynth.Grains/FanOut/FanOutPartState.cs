namespace OrleansSynth.Grains.FanOut;

/// <summary>A part's stored result; none while it is unfinished.</summary>
[GenerateSerializer]
public sealed class FanOutPartState<TResult> where TResult : class
{
    [Id(0)] public TResult? Result { get; set; }
}
