using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace L4Rt.Bridge;

/// <summary>
/// Mutual TLS between bridges: this bridge's certificate, and the one CA every peer's certificate must chain to. A
/// peer's identity is its certificate's common name; the allow-lists name peers by it.
/// </summary>
public sealed class PeerTrust : IDisposable
{
    private readonly X509Certificate2 _ca;

    private PeerTrust(X509Certificate2 certificate, X509Certificate2 ca)
    {
        Certificate = certificate;
        _ca = ca;
    }

    /// <summary>This bridge's certificate with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Loads the PEM files named by <paramref name="options"/>; a bad file throws with its path.</summary>
    public static PeerTrust Load(BridgeOptions options)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = PemCertificate.Load(options.CertificatePath, options.KeyPath);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or ArgumentException)
        {
            throw new InvalidOperationException($"cannot load the certificate '{options.CertificatePath}' with key '{options.KeyPath}': {e.Message}", e);
        }

        try
        {
            return new PeerTrust(certificate, X509Certificate2.CreateFromPem(File.ReadAllText(options.TrustedCaPath)));
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or ArgumentException)
        {
            certificate.Dispose();
            throw new InvalidOperationException($"cannot load the trusted CA '{options.TrustedCaPath}': {e.Message}", e);
        }
    }

    /// <summary>The peer name a certificate proves, if it chains to the trusted CA (and is valid now); else null with the reason.</summary>
    public string? Verify(X509Certificate2? certificate, out string reason)
    {
        if (certificate is null)
        {
            reason = "no certificate";
            return null;
        }

        using X509Chain chain = new();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        if (!chain.Build(certificate))
        {
            reason = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).DefaultIfEmpty("untrusted"));
            return null;
        }

        string name = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        reason = "";
        return string.IsNullOrEmpty(name) ? null : name;
    }

    /// <summary>Client side: the exporter's server certificate must chain to the CA and name <paramref name="expectedPeer"/>.</summary>
    public RemoteCertificateValidationCallback ServerValidator(string expectedPeer) => (_, certificate, _, _) =>
        certificate is X509Certificate2 c && Verify(c, out _) == expectedPeer;

    /// <inheritdoc/>
    public void Dispose()
    {
        Certificate.Dispose();
        _ca.Dispose();
    }
}
