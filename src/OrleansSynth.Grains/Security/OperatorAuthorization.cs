using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains.Security;

/// <summary>Checks the operator token of an operator action; a refusal is logged and thrown to the caller.</summary>
public sealed partial class OperatorAuthorization(IOptions<OperatorOptions> options, ILogger<OperatorAuthorization> logger)
{
    /// <exception cref="OperatorTokenRefusedException">The token is missing or wrong, or the cluster has none configured.</exception>
    public void Demand(string? token, string action, string target)
    {
        var expected = options.Value.Token;
        // Fixed-time comparison: the time taken says nothing about how much of a guess was right.
        if (expected.Length > 0 && token is not null
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(token)), SHA256.HashData(Encoding.UTF8.GetBytes(expected))))
            return;
        LogRefused(action, target, token is null ? "no token" : expected.Length == 0 ? "no operator token configured on the cluster" : "wrong token");
        throw new OperatorTokenRefusedException(expected.Length == 0
            ? $"{action} {target} refused: the cluster has no operator token configured (OrleansSynth:OperatorToken)."
            : $"{action} {target} refused: {(token is null ? "no operator token given" : "wrong operator token")} (--token or ORLEANSSYNTH_OPERATOR_TOKEN).");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Operator action refused: {Action} {Target} ({Reason})")]
    private partial void LogRefused(string action, string target, string reason);
}
