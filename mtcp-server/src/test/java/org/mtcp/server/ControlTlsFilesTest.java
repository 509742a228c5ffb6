package org.mtcp.server;

import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

import javax.net.ssl.SSLContext;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ControlTls} and {@link DevCertificates} on real files: what the tool writes loads back in
 * every form (PKCS#12, PEM with a PKCS#8, PKCS#1 or SEC1 key, a PKCS#12 trust store), and a missing,
 * empty, garbled or mismatched file fails naming the file and the fault.
 */
class ControlTlsFilesTest {
    private static final char[] PASSWORD = DevCertificates.DEFAULT_PASSWORD.toCharArray();

    @Test
    void theCommandLineWritesACaAndNodesThatLoadBack(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("certs");
        DevCertificates.main(new String[] {"--out", out.toString(), "s1=ip:10.7.0.1", "s2=ip:10.7.0.2,dns:s2.cluster.test"});
        for (String f : List.of("ca.pem", "ca-key.pem", "s1/node.p12", "s1/node.pem", "s1/node-key.pem", "s2/node.p12")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(out.resolve("s1/node-key.pem"))));
        SSLContext a = ControlTls.fromPkcs12(out.resolve("s1/node.p12"), PASSWORD, out.resolve("ca.pem"));
        SSLContext b = ControlTls.fromPem(out.resolve("s2/node.pem"), out.resolve("s2/node-key.pem"), out.resolve("ca.pem"));
        assertEquals(ControlTls.PROTOCOL, a.getProtocol());
        assertEquals(ControlTls.PROTOCOL, b.getProtocol());
        X509Certificate s2 = ControlTls.readCertificates(out.resolve("s2/node.pem"), "chain").get(0);
        assertEquals("[[7, 10.7.0.2], [2, s2.cluster.test]]", String.valueOf(s2.getSubjectAlternativeNames()));
        assertEquals(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"), s2.getExtendedKeyUsage(), "server and client auth");
        // a later node from the same CA
        DevCertificates.main(new String[] {"--out", out.toString(), "--ca", out.toString(), "s3=dns:s3.cluster.test"});
        X509Certificate s3 = ControlTls.readCertificates(out.resolve("s3/node.pem"), "chain").get(0);
        X509Certificate ca = ControlTls.readCertificates(out.resolve("ca.pem"), "CA").get(0);
        s3.verify(ca.getPublicKey());
    }

    @Test
    void pkcs1AndSec1KeysAndAPkcs12TrustStoreLoad(@TempDir Path tmp) throws Exception {
        DevCertificates.Issued ca = DevCertificates.authority("test CA", Duration.ofDays(1));
        DevCertificates.writeAuthority(ca, tmp);
        // SEC1 (BEGIN EC PRIVATE KEY), as openssl writes it: the curve and the public key inside
        DevCertificates.Issued ec = DevCertificates.node(ca, "ec", List.of("127.0.0.1"), Duration.ofDays(1));
        Path ecDir = tmp.resolve("ec");
        DevCertificates.writeNode(ec, ecDir, PASSWORD);
        Path sec1 = ecDir.resolve("sec1.pem");
        writeSec1(sec1, ec.key(), ec.certificate());
        assertTrue(Files.readString(sec1).contains("BEGIN EC PRIVATE KEY"));
        assertEquals(((java.security.interfaces.ECPrivateKey) ec.key()).getS(),
                ((java.security.interfaces.ECPrivateKey) ControlTls.readPrivateKey(sec1)).getS());
        ControlTls.fromPem(ecDir.resolve("node.pem"), sec1, tmp.resolve("ca.pem"));
        // PKCS#1 (BEGIN RSA PRIVATE KEY)
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair rsa = g.generateKeyPair();
        Path pkcs1 = tmp.resolve("rsa.pem");
        writeTraditional(pkcs1, rsa.getPrivate());
        assertTrue(Files.readString(pkcs1).contains("BEGIN RSA PRIVATE KEY"));
        assertEquals("RSA", ControlTls.readPrivateKey(pkcs1).getAlgorithm());
        // a PKCS#12 trust store as the CA
        Path trust = tmp.resolve("trust.p12");
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setCertificateEntry("ca", ca.certificate());
        try (var o = Files.newOutputStream(trust)) {
            ks.store(o, "trustpw".toCharArray());
        }
        ControlTls.fromPkcs12(ecDir.resolve("node.p12"), PASSWORD, trust, "trustpw".toCharArray());
    }

    private static void writeSec1(Path file, PrivateKey key, X509Certificate cert) throws IOException {
        org.bouncycastle.asn1.pkcs.PrivateKeyInfo info = org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(key.getEncoded());
        org.bouncycastle.asn1.sec.ECPrivateKey sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256,
                ((java.security.interfaces.ECPrivateKey) key).getS(),
                org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(cert.getPublicKey().getEncoded()).getPublicKeyData(),
                info.getPrivateKeyAlgorithm().getParameters());
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.US_ASCII); JcaPEMWriter pw = new JcaPEMWriter(w)) {
            pw.writeObject(new org.bouncycastle.util.io.pem.PemObject("EC PRIVATE KEY", sec1.getEncoded()));
        }
    }

    /** Writes a key as OpenSSL's traditional PEM (PKCS#1 for RSA, SEC1 for EC), as Bouncy Castle does. */
    private static void writeTraditional(Path file, PrivateKey key) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.US_ASCII); JcaPEMWriter pw = new JcaPEMWriter(w)) {
            pw.writeObject(key);
        }
    }

    @Test
    void missingGarbledAndMismatchedFilesFailNamingTheFile(@TempDir Path tmp) throws Exception {
        DevCertificates.Issued ca = DevCertificates.authority("test CA", Duration.ofDays(1));
        DevCertificates.writeAuthority(ca, tmp);
        DevCertificates.writeNode(DevCertificates.node(ca, "n1", List.of("127.0.0.1"), Duration.ofDays(1)), tmp.resolve("n1"),
                PASSWORD);
        DevCertificates.writeNode(DevCertificates.node(ca, "n2", List.of("127.0.0.2"), Duration.ofDays(1)), tmp.resolve("n2"),
                PASSWORD);
        Path caPem = tmp.resolve("ca.pem");
        Path missing = tmp.resolve("nope.pem");
        Path garbled = Files.writeString(tmp.resolve("garbled.pem"), "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n"
                + "-----END CERTIFICATE-----\n");
        Path empty = Files.write(tmp.resolve("empty.pem"), new byte[0]);
        Path text = Files.writeString(tmp.resolve("text.pem"), "hello\n");

        assertFails(missing + " does not exist", () -> ControlTls.fromPem(missing, tmp.resolve("n1/node-key.pem"), caPem));
        assertFails(garbled + " does not hold valid PEM certificates",
                () -> ControlTls.fromPem(garbled, tmp.resolve("n1/node-key.pem"), caPem));
        assertFails(empty + " is empty", () -> ControlTls.fromPem(tmp.resolve("n1/node.pem"), tmp.resolve("n1/node-key.pem"),
                empty));
        assertFails(text + " is not PEM", () -> ControlTls.fromPem(tmp.resolve("n1/node.pem"), text, caPem));
        assertFails("does not belong to the first certificate",
                () -> ControlTls.fromPem(tmp.resolve("n1/node.pem"), tmp.resolve("n2/node-key.pem"), caPem));
        assertFails(tmp.resolve("n1/node.p12") + ": wrong password?",
                () -> ControlTls.fromPkcs12(tmp.resolve("n1/node.p12"), "wrong".toCharArray(), caPem));
        assertFails(caPem + " holds no private key", () -> ControlTls.readPrivateKey(caPem));
    }

    private interface Call {
        void run() throws Exception;
    }

    private static void assertFails(String messagePart, Call call) {
        IOException e = assertThrows(IOException.class, call::run);
        assertTrue(e.getMessage().contains(messagePart), "expected \"" + messagePart + "\" in: " + e.getMessage());
    }
}
