using System.Security.Cryptography.X509Certificates;

namespace OrleansSynth.Abstractions;

/// <summary>
/// The cluster's certificates from PEM files (a Kubernetes TLS Secret's tls.crt, tls.key and ca.crt).
/// </summary>
public static class ClusterCertificates
{
    /// <summary>A certificate with its private key.</summary>
    public static X509Certificate2 LoadPair(string certificateFile, string keyFile)
    {
        foreach (var file in new[] { certificateFile, keyFile })
            if (!File.Exists(file))
                throw new FileNotFoundException($"{file}: no such certificate or key file.", file);
        return X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
    }

    /// <summary>The CA certificates (one or more, PEM) that the cluster trusts and nothing else.</summary>
    public static X509Certificate2Collection LoadAuthority(string caFile)
    {
        if (!File.Exists(caFile))
            throw new FileNotFoundException($"{caFile}: no such CA file.", caFile);
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(caFile);
        if (authorities.Count == 0)
            throw new InvalidDataException($"{caFile}: no certificate in it.");
        return authorities;
    }

    /// <summary>
    /// Whether <paramref name="certificate"/> is valid now and chains to one of <paramref name="authorities"/> alone.
    /// </summary>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
