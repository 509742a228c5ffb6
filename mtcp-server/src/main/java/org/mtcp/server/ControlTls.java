package org.mtcp.server;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.mtcp.api.MtcpOptions;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Builds the {@link SSLContext} of {@link MtcpOptions#CONTROL_TLS}: this server's certificate chain and
 * private key (the key manager) and the cluster's CA certificate (the trust manager), for TLS 1.3.
 * From a PKCS#12 key store ({@link #fromPkcs12}) or from PEM files ({@link #fromPem}: a certificate
 * chain, an unencrypted private key in PKCS#8, PKCS#1 or SEC1 form, and the CA certificate).
 * {@link DevCertificates} makes a development CA and node certificates in both forms.
 *
 * <pre>{@code
 * SSLContext tls = ControlTls.fromPkcs12(Path.of("certs/s1/node.p12"), password, Path.of("certs/ca.pem"));
 * server.setOption(MtcpOptions.CONTROL_TLS, tls);          // first
 * server.setOption(MtcpOptions.CONTROL_MAPPINGS, mappings);  // then
 * }</pre>
 *
 * <p>Every method fails with an {@link IOException} naming the file and what is wrong with it (missing,
 * not PEM, not a certificate, a key that does not belong to the certificate, an encrypted PEM key, a
 * wrong PKCS#12 password). Only the trust of the CA given is used: not the JDK's default CAs.
 */
public final class ControlTls {
    /** The protocol of the contexts made here (and the only one control connections enable). */
    public static final String PROTOCOL = "TLSv1.3";

    private ControlTls() {
    }

    /**
     * @param keyStore       a PKCS#12 file with one private key entry: this server's key and certificate chain
     * @param password       the key store's password (its key entry's too)
     * @param caCertificates the cluster's CA certificate(s): a PEM file, or a PKCS#12 trust store without a
     *                       password (see {@link #fromPkcs12(Path, char[], Path, char[])} for one with)
     * @return a TLS 1.3 context for {@link MtcpOptions#CONTROL_TLS}
     * @throws IOException naming the file that is missing or wrong
     */
    public static SSLContext fromPkcs12(Path keyStore, char[] password, Path caCertificates) throws IOException {
        return fromPkcs12(keyStore, password, caCertificates, null);
    }

    /**
     * @param keyStore       a PKCS#12 file with one private key entry: this server's key and certificate chain
     * @param password       the key store's password (its key entry's too)
     * @param caCertificates the cluster's CA certificate(s): a PEM file, or a PKCS#12 trust store
     * @param trustPassword  the trust store's password, or {@code null} (none, or a PEM file)
     * @return a TLS 1.3 context for {@link MtcpOptions#CONTROL_TLS}
     * @throws IOException naming the file that is missing or wrong
     */
    public static SSLContext fromPkcs12(Path keyStore, char[] password, Path caCertificates, char[] trustPassword)
            throws IOException {
        KeyStore keys = loadPkcs12(keyStore, password, "key store");
        try {
            int entries = 0;
            for (String alias : Collections.list(keys.aliases())) {
                if (keys.isKeyEntry(alias)) {
                    entries++;
                }
            }
            if (entries == 0) {
                throw new IOException("the key store " + keyStore + " has no private key entry (this server's key and"
                        + " certificate)");
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot read the key store " + keyStore + ": " + e.getMessage(), e);
        }
        return create(keys, password, trust(caCertificates, trustPassword));
    }

    /**
     * @param certificateChain a PEM file: this server's certificate first, then any intermediates
     * @param privateKey       a PEM file with the unencrypted private key of that certificate: PKCS#8
     *                         ({@code BEGIN PRIVATE KEY}), PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) or SEC1
     *                         ({@code BEGIN EC PRIVATE KEY})
     * @param caCertificates   a PEM file with the cluster's CA certificate(s)
     * @return a TLS 1.3 context for {@link MtcpOptions#CONTROL_TLS}
     * @throws IOException naming the file that is missing or wrong
     */
    public static SSLContext fromPem(Path certificateChain, Path privateKey, Path caCertificates) throws IOException {
        List<X509Certificate> chain = readCertificates(certificateChain, "certificate chain");
        PrivateKey key = readPrivateKey(privateKey);
        checkPair(key, chain.get(0), privateKey, certificateChain);
        char[] password = new char[0];
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("node", key, password, chain.toArray(new Certificate[0]));
            return create(keys, password, trust(caCertificates, null));
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot use the key " + privateKey + " with the certificates " + certificateChain + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * @param keys     this server's private key entry and certificate chain
     * @param password the key entry's password
     * @param trust    the cluster's CA certificate(s), as trusted certificate entries
     * @return a TLS 1.3 context for {@link MtcpOptions#CONTROL_TLS}
     * @throws IOException when the JDK refuses the keys or the trust
     */
    public static SSLContext create(KeyStore keys, char[] password, KeyStore trust) throws IOException {
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, password);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance(PROTOCOL);
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot make a " + PROTOCOL + " context of these keys and this trust: " + e.getMessage(), e);
        }
    }

    /**
     * @param caCertificates a PEM file of CA certificates, or a PKCS#12 trust store
     * @param password       the trust store's password, or {@code null}
     * @return a key store of trusted certificate entries
     * @throws IOException naming the file when it is missing, garbled or holds no certificate
     */
    public static KeyStore trust(Path caCertificates, char[] password) throws IOException {
        byte[] bytes = read(caCertificates, "CA certificate");
        try {
            KeyStore ks;
            if (looksLikePem(bytes)) {
                ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                int i = 0;
                for (X509Certificate c : certificates(bytes, caCertificates, "CA certificate")) {
                    ks.setCertificateEntry("ca-" + i++, c);
                }
            } else {
                ks = loadPkcs12(caCertificates, password, "trust store");
                KeyStore only = KeyStore.getInstance("PKCS12");
                only.load(null, null);
                int i = 0;
                for (String alias : Collections.list(ks.aliases())) {
                    if (ks.isCertificateEntry(alias)) {
                        only.setCertificateEntry("ca-" + i++, ks.getCertificate(alias));
                    }
                }
                if (i == 0) {
                    throw new IOException("the trust store " + caCertificates + " has no trusted certificate entry (the"
                            + " cluster CA; keytool -importcert -trustcacerts adds one)");
                }
                ks = only;
            }
            return ks;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot read the CA certificates " + caCertificates + ": " + e.getMessage(), e);
        }
    }

    /**
     * @return the certificates of a PEM file, in order
     * @throws IOException naming the file when it is missing, not PEM, or holds no certificate
     */
    public static List<X509Certificate> readCertificates(Path pem, String what) throws IOException {
        return certificates(read(pem, what), pem, what);
    }

    /**
     * @param pem an unencrypted private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC)
     * @return the key
     * @throws IOException naming the file when it is missing, garbled, encrypted or holds no key
     */
    public static PrivateKey readPrivateKey(Path pem) throws IOException {
        byte[] bytes = read(pem, "private key");
        if (!looksLikePem(bytes)) {
            throw new IOException("the private key file " + pem + " is not PEM (expected -----BEGIN PRIVATE KEY-----,"
                    + " -----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)");
        }
        try (Reader r = new InputStreamReader(new ByteArrayInputStream(bytes), StandardCharsets.US_ASCII);
             PEMParser parser = new PEMParser(r)) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            Object o;
            while ((o = parser.readObject()) != null) {
                if (o instanceof PrivateKeyInfo) {
                    return converter.getPrivateKey((PrivateKeyInfo) o);
                }
                if (o instanceof PEMKeyPair) { // PKCS#1 or SEC1, whose public part is optional
                    return converter.getPrivateKey(((PEMKeyPair) o).getPrivateKeyInfo());
                }
                if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
                    throw new IOException("the private key in " + pem + " is encrypted: give an unencrypted one (e.g."
                            + " openssl pkcs8 -topk8 -nocrypt -in KEY -out node-key.pem) in a file only this server's"
                            + " user can read, or use a PKCS#12 key store");
                }
            }
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains(pem.toString())) {
                throw e;
            }
            throw new IOException("cannot read the private key " + pem + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IOException("cannot read the private key " + pem + ": " + e, e);
        }
        throw new IOException("the file " + pem + " holds no private key");
    }

    private static List<X509Certificate> certificates(byte[] bytes, Path file, String what) throws IOException {
        if (!looksLikePem(bytes)) {
            throw new IOException("the " + what + " file " + file + " is not PEM (expected -----BEGIN CERTIFICATE-----)");
        }
        List<X509Certificate> out = new ArrayList<>();
        try {
            Collection<? extends Certificate> cs = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(bytes));
            for (Certificate c : cs) {
                out.add((X509Certificate) c);
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IOException("the " + what + " file " + file + " does not hold valid PEM certificates: " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new IOException("the " + what + " file " + file + " holds no certificate");
        }
        return out;
    }

    private static KeyStore loadPkcs12(Path file, char[] password, String what) throws IOException {
        byte[] bytes = read(file, what);
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(new ByteArrayInputStream(bytes), password);
            return ks;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot read the PKCS#12 " + what + " " + file + ": " + e.getMessage(), e);
        } catch (IOException e) {
            String why = e.getCause() instanceof java.security.UnrecoverableKeyException
                    || String.valueOf(e.getMessage()).contains("password") ? "wrong password? " : "";
            throw new IOException("cannot read the PKCS#12 " + what + " " + file + ": " + why + e.getMessage(), e);
        }
    }

    private static byte[] read(Path file, String what) throws IOException {
        try {
            byte[] b = Files.readAllBytes(file);
            if (b.length == 0) {
                throw new IOException("the " + what + " file " + file + " is empty");
            }
            return b;
        } catch (NoSuchFileException e) {
            throw new IOException("the " + what + " file " + file + " does not exist", e);
        }
    }

    private static boolean looksLikePem(byte[] bytes) {
        String head = new String(bytes, 0, Math.min(bytes.length, 4096), StandardCharsets.ISO_8859_1);
        return head.contains("-----BEGIN ");
    }

    /** @throws IOException when {@code key} is not the private key of {@code cert} */
    private static void checkPair(PrivateKey key, X509Certificate cert, Path keyFile, Path certFile) throws IOException {
        String alg;
        switch (key.getAlgorithm()) {
            case "RSA":
                alg = "SHA256withRSA";
                break;
            case "EC":
                alg = "SHA256withECDSA";
                break;
            case "Ed25519":
            case "Ed448":
            case "EdDSA":
                alg = key.getAlgorithm();
                break;
            default:
                return; // the handshake will tell
        }
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(cert.getPublicKey());
            v.update(probe);
            if (!v.verify(sig)) {
                throw new IOException("the private key in " + keyFile + " does not belong to the first certificate in "
                        + certFile + " (" + cert.getSubjectX500Principal() + ")");
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("the private key in " + keyFile + " does not fit the first certificate in " + certFile
                    + " (" + cert.getSubjectX500Principal() + "): " + e.getMessage(), e);
        }
    }
}
