using System.Text;

namespace OrleansSynth.ML.Text;

/// <summary>
/// What a dataset's report (the text beside an image) may be: UTF-8, at most <see cref="MaxTokens"/> tokens, so any
/// accepted report fits a text model of the default size (<see cref="Models.TextEncoderConfig.MaxTokens"/>). Readers
/// check every row with <see cref="Check"/> and name the row that fails.
/// </summary>
public static class ReportText
{
    /// <summary>Longer reports are refused, not cut: a cut report could say the opposite of the whole.</summary>
    public const int MaxTokens = 127;

    /// <summary>Checked before tokenizing, so a pathological cell costs nothing: no 127-token text is this
    /// long.</summary>
    public const int MaxCharacters = 4_000;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, true);

    /// <summary>Null when <paramref name="report"/> is acceptable, else why not.</summary>
    public static string? Check(string report)
    {
        if (report.Length > MaxCharacters)
            return $"the report is {report.Length} characters long; at most {MaxTokens} tokens are accepted";
        var tokens = ReportTokenizer.Encode(report).Count;
        return tokens > MaxTokens
            ? $"the report is {tokens} tokens long (GPT-2's tokens); at most {MaxTokens} are accepted"
            : null;
    }

    /// <summary>The 1-based line of the first byte sequence in <paramref name="path"/> that is not UTF-8, if
    /// any.</summary>
    public static int? FirstInvalidUtf8Line(string path)
    {
        var line = 1;
        foreach (var bytes in SplitLines(File.ReadAllBytes(path)))
        {
            try
            {
                StrictUtf8.GetCharCount(bytes);
            }
            catch (DecoderFallbackException)
            {
                return line;
            }
            line++;
        }
        return null;
    }

    private static IEnumerable<byte[]> SplitLines(byte[] content)
    {
        var start = 0;
        for (var i = 0; i < content.Length; i++)
        {
            if (content[i] != (byte)'\n')
                continue;
            yield return content[start..i];
            start = i + 1;
        }
        yield return content[start..];
    }
}
