using static TorchSharp.torch;

namespace OrleansSynth.ML.Models;

/// <summary>What <see cref="TextEncoder"/> makes of a batch of prompts.</summary>
/// <param name="Tokens">One vector per token [B,L,D].</param>
/// <param name="KeyBias">0 for a token, a large negative number for padding, [B,1,L]: added to attention
/// scores.</param>
/// <param name="Pooled">The mean of each prompt's token vectors [B,D].</param>
public sealed record EncodedPrompt(Tensor Tokens, Tensor KeyBias, Tensor Pooled);
