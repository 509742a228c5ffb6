package org.mtcp.server.internal;

import org.junit.jupiter.api.Test;
import org.mtcp.server.DevCertificates;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The accepting side's host check ({@link HostnameRule}), as HTTPS checks a server: an IP host against
 * IP subject alternative names only, a name against DNS ones only, a wildcard for the leftmost label
 * alone, no common-name fallback.
 */
class HostnameRuleTest {

    private static X509Certificate cert(String... sans) throws Exception {
        DevCertificates.Issued ca = DevCertificates.authority("CA", Duration.ofDays(1));
        return DevCertificates.node(ca, "127.0.0.1", List.of(sans), Duration.ofDays(1)).certificate();
    }

    @Test
    void ipHostsMatchIpNamesOnly() throws Exception {
        X509Certificate c = cert("ip:10.7.0.1", "ip:::1", "dns:10.7.0.2");
        HostnameRule.check(c, "10.7.0.1");
        HostnameRule.check(c, "::1");
        HostnameRule.check(c, "0:0:0:0:0:0:0:1");
        CertificateException e = assertThrows(CertificateException.class, () -> HostnameRule.check(c, "10.7.0.2"));
        assertTrue(e.getMessage().contains("not valid for 10.7.0.2") && e.getMessage().contains("IP:10.7.0.1"), e.getMessage());
    }

    @Test
    void namesMatchDnsNamesCaseInsensitivelyWithALeftmostWildcard() throws Exception {
        X509Certificate c = cert("dns:S1.Cluster.Test", "dns:*.nodes.cluster.test", "ip:10.7.0.1");
        HostnameRule.check(c, "s1.cluster.test");
        HostnameRule.check(c, "s1.cluster.test.");
        HostnameRule.check(c, "a.nodes.cluster.test");
        for (String no : List.of("s2.cluster.test", "a.b.nodes.cluster.test", "nodes.cluster.test", "cluster.test")) {
            assertThrows(CertificateException.class, () -> HostnameRule.check(c, no), no);
        }
        assertThrows(CertificateException.class, () -> HostnameRule.check(cert("dns:*.test"), "a.test"),
                "no wildcard for a top-level domain");
    }

    @Test
    void theCommonNameIsNeverUsed() throws Exception {
        X509Certificate c = cert("dns:other.test"); // its subject is CN=127.0.0.1
        CertificateException e = assertThrows(CertificateException.class, () -> HostnameRule.check(c, "127.0.0.1"));
        assertTrue(e.getMessage().contains("an IP address needs an IP subject alternative name"), e.getMessage());
    }
}
