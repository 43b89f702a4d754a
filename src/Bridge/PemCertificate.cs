using System.Security.Cryptography.X509Certificates;

namespace L4Rt.Bridge;

/// <summary>A certificate and its key from PEM files, in the form TLS (SslStream, Kestrel) can use on every platform.</summary>
internal static class PemCertificate
{
    /// <summary>Loads <paramref name="certificatePath"/> with <paramref name="keyPath"/>; the caller owns (disposes) the result.</summary>
    internal static X509Certificate2 Load(string certificatePath, string keyPath)
    {
        using X509Certificate2 pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null); // an ephemeral PEM key is not usable by TLS everywhere
    }
}
