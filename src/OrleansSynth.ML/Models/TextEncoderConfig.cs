using System.Text.Json.Serialization;

namespace OrleansSynth.ML.Models;

/// <summary>
/// Shape of the small transformer that reads a prompt (a report) for a text-conditioned <see cref="UNet"/>. Token ids
/// below <see cref="VocabularySize"/> are the tokenizer's; three more rows mark the start of every prompt, padding and
/// a token the model does not know. A prompt of the start token alone is the null prompt classifier-free guidance
/// mixes against.
/// </summary>
public sealed record TextEncoderConfig
{
    /// <summary>The tokenizer's vocabulary (GPT-2's by default: <see cref="Text.ReportTokenizer"/>).</summary>
    public int VocabularySize { get; init; } = Text.ReportTokenizer.Gpt2VocabularySize;

    /// <summary>Width of a token's vector.</summary>
    public int Dim { get; init; } = 64;
    public int Layers { get; init; } = 2;
    public int Heads { get; init; } = 4;

    /// <summary>Tokens per prompt, the start token included; a longer prompt is refused, never cut. The default
    /// holds any report a dataset reader accepts (<see cref="Text.ReportText.MaxTokens"/>).</summary>
    public int MaxTokens { get; init; } = Text.ReportText.MaxTokens + 1;

    /// <summary>
    /// The tokenizer's ids the model reads; every other id is read as <see cref="UnknownToken"/>. A shared model's are
    /// the tokens of at least <see cref="Text.ReportVocabulary.MinimumReports"/> patients' reports
    /// (<see cref="Text.ReportVocabulary"/>), so a rare word never reaches its weights: an embedding row that no
    /// training prompt used keeps its initial value, and would otherwise tell which rare tokens the reports held. Null:
    /// every token (for models nobody else receives).
    /// </summary>
    public int[]? KnownTokens { get; init; }

    [JsonIgnore]
    public int StartToken => VocabularySize;

    [JsonIgnore]
    public int PadToken => VocabularySize + 1;

    [JsonIgnore]
    public int UnknownToken => VocabularySize + 2;

    /// <summary>Rows of the token embedding: the vocabulary and the three markers.</summary>
    [JsonIgnore]
    public int EmbeddingRows => VocabularySize + 3;

    public void Validate()
    {
        if (VocabularySize < 1)
            throw new ArgumentException($"VocabularySize must be positive, was {VocabularySize}.");
        if (Dim < 8 || Heads < 1 || Dim % Heads != 0)
            throw new ArgumentException($"Dim ({Dim}) must be at least 8 and a multiple of Heads ({Heads}).");
        if (Layers is < 0 or > 12)
            throw new ArgumentException($"Layers must be 0..12, was {Layers}.");
        if (MaxTokens is < 2 or > 512)
            throw new ArgumentException($"MaxTokens must be 2..512, was {MaxTokens}.");
        if (Dim % 2 != 0)
            throw new ArgumentException($"Dim must be even (sine and cosine positions), was {Dim}.");
        if (KnownTokens?.Any(t => t < 0 || t >= VocabularySize) == true)
            throw new ArgumentException($"KnownTokens must be token ids below {VocabularySize}.");
    }

    /// <summary>The null prompt's row: the start token, then padding.</summary>
    public long[] NullPromptRow()
    {
        var row = new long[MaxTokens];
        Array.Fill(row, PadToken);
        row[0] = StartToken;
        return row;
    }
}
