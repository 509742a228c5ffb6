package org.mtcp.server;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;

import javax.net.ssl.SSLContext;

/**
 * A development certificate authority and node certificates for {@link org.mtcp.api.MtcpOptions#CONTROL_TLS},
 * made with Bouncy Castle's PKIX builder: EC P-256 keys, SHA-256 ECDSA signatures; a node certificate
 * has the IP and DNS subject alternative names it is given (a node's certificate must name the host of
 * its control address), both server and client authentication as extended key usages (a control
 * connection authenticates both ends). For development and tests: a production cluster's CA keeps its
 * key offline.
 *
 * <p>From the command line ({@code java -cp mtcp-server.jar:bcpkix.jar:bcutil.jar:bcprov.jar
 * org.mtcp.server.DevCertificates --out certs s1=ip:10.7.0.1 s2=ip:10.7.0.2,dns:s2.cluster.test}):
 * writes {@code certs/ca.pem} (the CA certificate, every node's trust), {@code certs/ca-key.pem} (its
 * key, to issue more nodes later with {@code --ca certs}) and per node {@code certs/NAME/node.p12}
 * (key and chain, password {@code --password}, default {@value #DEFAULT_PASSWORD}),
 * {@code certs/NAME/node.pem} (the chain) and {@code certs/NAME/node-key.pem} (the PKCS#8 key). Key
 * files are made readable by their owner only where the file system allows.
 */
public final class DevCertificates {
    /** The PKCS#12 password when none is given. */
    public static final String DEFAULT_PASSWORD = "changeit";
    private static final String SIGNATURE = "SHA256withECDSA";
    private static final SecureRandom RANDOM = new SecureRandom();

    private DevCertificates() {
    }

    /** A certificate and its private key. */
    public static final class Issued {
        private final X509Certificate certificate;
        private final PrivateKey key;
        private final List<X509Certificate> chain;

        Issued(X509Certificate certificate, PrivateKey key, List<X509Certificate> chain) {
            this.certificate = certificate;
            this.key = key;
            this.chain = List.copyOf(chain);
        }

        /** @return the certificate */
        public X509Certificate certificate() {
            return certificate;
        }

        /** @return its private key */
        public PrivateKey key() {
            return key;
        }

        /** @return the certificate, then its issuer's (for a CA: the certificate alone) */
        public List<X509Certificate> chain() {
            return chain;
        }
    }

    /**
     * @param name     the CA's common name
     * @param validity how long from now it is valid
     * @return a new self-signed CA
     */
    public static Issued authority(String name, Duration validity) throws GeneralSecurityException {
        KeyPair kp = keyPair();
        Instant now = Instant.now();
        X500Name subject = new X500Name("CN=" + name);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)), subject, kp.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
            X509Certificate cert = sign(b, kp.getPrivate());
            return new Issued(cert, kp.getPrivate(), List.of(cert));
        } catch (CertIOException e) {
            throw new GeneralSecurityException("cannot build the CA certificate: " + e.getMessage(), e);
        }
    }

    /**
     * @param ca   the issuing CA
     * @param name the node's common name
     * @param sans its subject alternative names: {@code ip:ADDRESS} or {@code dns:NAME} (a bare IP address
     *             literal counts as {@code ip:}, anything else bare as {@code dns:})
     * @param from the start of its validity
     * @param to   the end of its validity
     * @return a node certificate for both ends of a control connection, signed by {@code ca}
     */
    public static Issued node(Issued ca, String name, List<String> sans, Instant from, Instant to)
            throws GeneralSecurityException {
        if (sans.isEmpty()) {
            throw new IllegalArgumentException("a node certificate needs at least one subject alternative name (ip:ADDRESS"
                    + " or dns:NAME): the host of its control address");
        }
        KeyPair kp = keyPair();
        List<GeneralName> names = new ArrayList<>();
        for (String san : sans) {
            names.add(generalName(san));
        }
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca.certificate(), serial(), Date.from(from),
                    Date.from(to), new X500Name("CN=" + name), kp.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(new GeneralName[0])))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca.certificate()));
            X509Certificate cert = sign(b, ca.key());
            List<X509Certificate> chain = new ArrayList<>();
            chain.add(cert);
            chain.addAll(ca.chain());
            return new Issued(cert, kp.getPrivate(), chain);
        } catch (CertIOException e) {
            throw new GeneralSecurityException("cannot build the node certificate: " + e.getMessage(), e);
        }
    }

    /**
     * A node certificate valid from five minutes ago for {@code validity}.
     *
     * @see #node(Issued, String, List, Instant, Instant)
     */
    public static Issued node(Issued ca, String name, List<String> sans, Duration validity) throws GeneralSecurityException {
        Instant now = Instant.now();
        return node(ca, name, sans, now.minus(Duration.ofMinutes(5)), now.plus(validity));
    }

    /**
     * @param node a node's certificate and key
     * @param ca   the CA to trust
     * @return a CONTROL_TLS context of them, made in memory (no files)
     */
    public static SSLContext context(Issued node, Issued ca) throws IOException {
        try {
            char[] password = new char[0];
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("node", node.key(), password, node.chain().toArray(new Certificate[0]));
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", ca.certificate());
            return ControlTls.create(keys, password, trust);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot hold the keys in memory: " + e.getMessage(), e);
        }
    }

    /** Writes {@code dir/ca.pem} and {@code dir/ca-key.pem}. */
    public static void writeAuthority(Issued ca, Path dir) throws IOException {
        Files.createDirectories(dir);
        writePem(dir.resolve("ca.pem"), ca.chain());
        writeKey(dir.resolve("ca-key.pem"), ca.key());
    }

    /**
     * Writes {@code dir/node.p12} (the key and chain under the alias {@code node}), {@code dir/node.pem}
     * (the chain) and {@code dir/node-key.pem} (the PKCS#8 key).
     */
    public static void writeNode(Issued node, Path dir, char[] password) throws IOException {
        Files.createDirectories(dir);
        writePem(dir.resolve("node.pem"), node.chain());
        writeKey(dir.resolve("node-key.pem"), node.key());
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("node", node.key(), password, node.chain().toArray(new Certificate[0]));
            Path p12 = dir.resolve("node.p12");
            try (OutputStream out = Files.newOutputStream(p12)) {
                ks.store(out, password);
            }
            ownerOnly(p12);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot write the key store in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** @return the CA written by {@link #writeAuthority} in {@code dir} */
    public static Issued readAuthority(Path dir) throws IOException {
        List<X509Certificate> certs = ControlTls.readCertificates(dir.resolve("ca.pem"), "CA certificate");
        PrivateKey key = ControlTls.readPrivateKey(dir.resolve("ca-key.pem"));
        return new Issued(certs.get(0), key, certs);
    }

    /** Writes certificates as PEM. */
    public static void writePem(Path file, List<X509Certificate> certificates) throws IOException {
        StringBuilder sb = new StringBuilder();
        try {
            for (X509Certificate c : certificates) {
                sb.append(pem("CERTIFICATE", c.getEncoded()));
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot encode a certificate: " + e.getMessage(), e);
        }
        Files.write(file, sb.toString().getBytes(StandardCharsets.US_ASCII));
    }

    /** Writes a private key as unencrypted PKCS#8 PEM, readable by its owner only where the file system allows. */
    public static void writeKey(Path file, PrivateKey key) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file);
        ownerOnly(file);
        Files.write(file, pem("PRIVATE KEY", key.getEncoded()).getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * The command line: {@code [--out DIR] [--ca DIR] [--password P] [--days N] NAME=SAN[,SAN...] ...}, where a
     * SAN is {@code ip:ADDRESS} or {@code dns:NAME}. Without {@code --ca} a new CA is made in the output
     * directory; with it, the CA there issues the nodes.
     */
    public static void main(String[] args) throws Exception {
        Path out = Path.of("certs");
        Path caDir = null;
        String password = DEFAULT_PASSWORD;
        long days = 365;
        List<String> nodes = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out":
                    out = Path.of(value(args, ++i));
                    break;
                case "--ca":
                    caDir = Path.of(value(args, ++i));
                    break;
                case "--password":
                    password = value(args, ++i);
                    break;
                case "--days":
                    days = Long.parseLong(value(args, ++i));
                    break;
                case "-h":
                case "--help":
                    usage(null);
                    return;
                default:
                    if (args[i].startsWith("-") || args[i].indexOf('=') <= 0) {
                        usage("unknown argument " + args[i]);
                        System.exit(2);
                    }
                    nodes.add(args[i]);
            }
        }
        Issued ca;
        if (caDir == null) {
            ca = authority("mtcp development CA", Duration.ofDays(Math.max(days, 1) * 2));
            writeAuthority(ca, out);
            System.out.println("wrote " + out.resolve("ca.pem") + " and " + out.resolve("ca-key.pem"));
        } else {
            ca = readAuthority(caDir);
        }
        for (String n : nodes) {
            String name = n.substring(0, n.indexOf('='));
            List<String> sans = List.of(n.substring(n.indexOf('=') + 1).split(","));
            Issued node = node(ca, name, sans, Duration.ofDays(days));
            Path dir = out.resolve(name);
            writeNode(node, dir, password.toCharArray());
            System.out.println("wrote " + dir.resolve("node.p12") + ", node.pem, node-key.pem for " + sans);
        }
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            usage(args[i - 1] + " needs a value");
            System.exit(2);
        }
        return args[i];
    }

    private static void usage(String error) {
        if (error != null) {
            System.err.println("DevCertificates: " + error);
        }
        System.err.println("usage: DevCertificates [--out DIR] [--ca DIR] [--password P] [--days N] NAME=SAN[,SAN...] ...\n"
                + "  SAN: ip:ADDRESS or dns:NAME (the host of the node's control address)\n"
                + "  writes DIR/ca.pem, DIR/ca-key.pem (unless --ca names an existing CA directory) and\n"
                + "  DIR/NAME/node.p12 (password P, default " + DEFAULT_PASSWORD + "), node.pem, node-key.pem");
    }

    private static GeneralName generalName(String san) {
        String s = san.trim();
        if (s.regionMatches(true, 0, "ip:", 0, 3)) {
            return new GeneralName(GeneralName.iPAddress, s.substring(3));
        }
        if (s.regionMatches(true, 0, "dns:", 0, 4)) {
            return new GeneralName(GeneralName.dNSName, s.substring(4));
        }
        if (s.indexOf(':') >= 0 || s.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            return new GeneralName(GeneralName.iPAddress, s);
        }
        return new GeneralName(GeneralName.dNSName, s);
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey issuerKey) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(SIGNATURE).build(issuerKey)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("cannot sign: " + e.getMessage(), e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static void ownerOnly(Path file) throws IOException {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: as the platform protects files
        }
    }
}
