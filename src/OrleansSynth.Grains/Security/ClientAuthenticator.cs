using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Options;
using OrleansSynth.Abstractions;

namespace OrleansSynth.Grains.Security;

/// <summary>
/// Establishes a client's principal from the credential in its call's request context
/// (<see cref="ClientCredential"/>): the operator token, or a certificate chained to the cluster's CA with a recent
/// signature by its key.
/// </summary>
public sealed class ClientAuthenticator
{
    public const string TokenOperator = "operator (token)";

    // Verified certificate credentials by signature: a chain check per call would cost more than the call.
    private readonly ConcurrentDictionary<string, (long IssuedAt, Principal Principal)> _verified = new();
    private readonly byte[]? _tokenHash;
    private readonly X509Certificate2Collection _authorities;

    public ClientAuthenticator(IOptions<ClientAuthenticationOptions> options)
    {
        var settings = options.Value;
        if (settings.OperatorToken.Length > 0)
            _tokenHash = SHA256.HashData(Encoding.UTF8.GetBytes(settings.OperatorToken));
        _authorities =
            settings.CertificateAuthorityFile.Length > 0
                ? ClusterCertificates.LoadAuthority(settings.CertificateAuthorityFile)
                : [];
    }

    /// <summary>The principal of the current client call.</summary>
    /// <exception cref="AccessRefusedException">
    /// No credential, or one the cluster does not trust (the reason given).
    /// </exception>
    public Principal Authenticate()
    {
        if (RequestContext.Get(ClientCredential.TokenKey) is string token)
            return FromToken(token);
        if (
            RequestContext.Get(ClientCredential.CertificateKey) is byte[] certificate
            && RequestContext.Get(ClientCredential.SignatureKey) is byte[] signature
            && RequestContext.Get(ClientCredential.IssuedAtKey) is long issuedAt
        )
        {
            var age = Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - issuedAt);
            if (age > ClientCredential.Lifetime.TotalSeconds)
                throw new AccessRefusedException(
                    $"the credential was signed {age} s from now; is this client's clock right?"
                );
            var key = Convert.ToBase64String(signature);
            if (_verified.TryGetValue(key, out var known) && known.IssuedAt == issuedAt)
                return known.Principal;
            var principal = FromCertificate(certificate, issuedAt, signature);
            if (_verified.Count > 10_000)
                _verified.Clear();
            _verified[key] = (issuedAt, principal);
            return principal;
        }
        throw new AccessRefusedException(
            "the call carries no credential (a client certificate or the local silo's token)."
        );
    }

    private Principal FromToken(string token)
    {
        // Fixed-time comparison of hashes: the time taken says nothing about how much of a guess was right.
        if (
            _tokenHash is not null
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(token)), _tokenHash)
        )
            return new Principal(TokenOperator, ClientRole.Operator);
        throw new AccessRefusedException(_tokenHash is null ? "this cluster accepts no token." : "wrong token.");
    }

    private Principal FromCertificate(byte[] der, long issuedAt, byte[] signature)
    {
        if (_authorities.Count == 0)
            throw new AccessRefusedException("this cluster has no CA for client certificates.");
        using var certificate = X509CertificateLoader.LoadCertificate(der);
        if (!ClusterCertificates.ChainsTo(certificate, _authorities))
            throw new AccessRefusedException(
                $"the client certificate '{certificate.Subject}' is not signed by the cluster's CA or has expired."
            );
        if (!VerifySignature(certificate, ClientCredential.SignedContent(issuedAt), signature))
            throw new AccessRefusedException("the credential's signature was not made by the certificate's key.");
        var name = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        var role = OrganisationalUnits(certificate.SubjectName).Select(RoleOf).Max();
        if (role is null || string.IsNullOrWhiteSpace(name))
            throw new AccessRefusedException(
                $"the client certificate '{certificate.Subject}' names no role (OU=operator or OU=submitter) "
                    + "or no common name."
            );
        return new Principal(name, role.Value);
    }

    private static bool VerifySignature(X509Certificate2 certificate, byte[] content, byte[] signature)
    {
        if (certificate.GetECDsaPublicKey() is { } ecdsa)
            using (ecdsa)
                return ecdsa.VerifyData(content, signature, HashAlgorithmName.SHA256);
        if (certificate.GetRSAPublicKey() is { } rsa)
            using (rsa)
                return rsa.VerifyData(content, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
        return false;
    }

    private static IEnumerable<string> OrganisationalUnits(X500DistinguishedName name) =>
        name.EnumerateRelativeDistinguishedNames()
            .Where(rdn => rdn.GetSingleElementType().Value == "2.5.4.11")
            .Select(rdn => rdn.GetSingleElementValue() ?? "");

    private static ClientRole? RoleOf(string unit) =>
        unit.ToLowerInvariant() switch
        {
            "operator" => ClientRole.Operator,
            "submitter" => ClientRole.Submitter,
            _ => null,
        };
}
