package org.mtcp.server.testkit;

import org.mtcp.server.ControlTls;
import org.mtcp.server.DevCertificates;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import javax.net.ssl.SSLContext;

/**
 * A cluster CA for TLS tests, made with {@link DevCertificates} in a directory (a {@code @TempDir}), whose
 * nodes' {@code CONTROL_TLS} contexts are loaded back from the files with {@link ControlTls}, as an
 * operator would.
 */
public final class TestPki {
    private final Path dir;
    private final DevCertificates.Issued ca;

    private TestPki(Path dir, DevCertificates.Issued ca) {
        this.dir = dir;
        this.ca = ca;
    }

    /** @return a new CA, written to {@code dir/ca.pem} */
    public static TestPki create(Path dir, String name) throws IOException, GeneralSecurityException {
        DevCertificates.Issued ca = DevCertificates.authority(name, Duration.ofDays(2));
        DevCertificates.writeAuthority(ca, dir);
        return new TestPki(dir, ca);
    }

    /** @return the CA certificate's file */
    public Path caPem() {
        return dir.resolve("ca.pem");
    }

    /** @return the directory of node {@code name}'s files */
    public Path nodeDir(String name) {
        return dir.resolve(name);
    }

    /** @return the issued certificate of a valid node, written to {@code dir/name/} */
    public DevCertificates.Issued issue(String name, Instant from, Instant to, String... sans)
            throws IOException, GeneralSecurityException {
        DevCertificates.Issued n = DevCertificates.node(ca, name, List.of(sans), from, to);
        DevCertificates.writeNode(n, nodeDir(name), DevCertificates.DEFAULT_PASSWORD.toCharArray());
        return n;
    }

    /** @return the CONTROL_TLS of a node valid now for {@code sans}, from its PKCS#12 file */
    public SSLContext node(String name, String... sans) throws IOException, GeneralSecurityException {
        Instant now = Instant.now();
        issue(name, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)), sans);
        return ControlTls.fromPkcs12(nodeDir(name).resolve("node.p12"), DevCertificates.DEFAULT_PASSWORD.toCharArray(),
                caPem());
    }

    /** @return the CONTROL_TLS of a node valid now for {@code sans}, from its PEM files */
    public SSLContext nodeFromPem(String name, String... sans) throws IOException, GeneralSecurityException {
        Instant now = Instant.now();
        issue(name, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)), sans);
        return ControlTls.fromPem(nodeDir(name).resolve("node.pem"), nodeDir(name).resolve("node-key.pem"), caPem());
    }

    /** @return the CONTROL_TLS of a node whose certificate expired yesterday */
    public SSLContext expired(String name, String... sans) throws IOException, GeneralSecurityException {
        Instant now = Instant.now();
        issue(name, now.minus(Duration.ofDays(3)), now.minus(Duration.ofDays(1)), sans);
        return ControlTls.fromPkcs12(nodeDir(name).resolve("node.p12"), DevCertificates.DEFAULT_PASSWORD.toCharArray(),
                caPem());
    }
}
