package org.mtcp.server.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * HTTPS host name verification (RFC 2818, RFC 6125) of a certificate for a host, for the accepting side
 * of a TLS control connection, which learns whom to expect only after the handshake. The JDK's own
 * checker ({@code sun.security.util.HostnameChecker}) is not exported, and its trust managers check a
 * host only during a handshake, so this applies the same rule: an IP address must equal an IP subject
 * alternative name; a name must match a DNS subject alternative name, case-insensitively, a wildcard
 * standing for exactly the leftmost label ({@code *.nodes.example} matches {@code a.nodes.example}).
 * Unlike the JDK's checker it never falls back to the subject's common name: a node certificate needs
 * a subject alternative name (as the development certificates have).
 */
final class HostnameRule {
    private static final int DNS = 2;
    private static final int IP = 7;
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private HostnameRule() {
    }

    /** @return whether {@code host} is an IP address literal (no name lookup needed) */
    static boolean isIpLiteral(String host) {
        return host.indexOf(':') >= 0 || IPV4.matcher(host).matches();
    }

    /** @throws CertificateException saying what the certificate names, when it is not valid for {@code host} */
    static void check(X509Certificate cert, String host) throws CertificateException {
        boolean ip = isIpLiteral(host);
        List<String> names = new ArrayList<>();
        Collection<List<?>> sans;
        try {
            sans = cert.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new CertificateException("the certificate's subject alternative names do not parse: " + e.getMessage(), e);
        }
        if (sans != null) {
            for (List<?> san : sans) {
                int type = (Integer) san.get(0);
                if (!(san.get(1) instanceof String)) {
                    continue;
                }
                String value = (String) san.get(1);
                if (type == IP) {
                    names.add("IP:" + value);
                    if (ip && sameAddress(value, host)) {
                        return;
                    }
                } else if (type == DNS) {
                    names.add("DNS:" + value);
                    if (!ip && dnsMatches(value, host)) {
                        return;
                    }
                }
            }
        }
        throw new CertificateException("the certificate of " + cert.getSubjectX500Principal() + " is not valid for "
                + host + ": it names " + (names.isEmpty() ? "no subject alternative name" : String.join(", ", names))
                + " and " + (ip ? "an IP address needs an IP" : "a host name needs a DNS") + " subject alternative name");
    }

    private static boolean sameAddress(String san, String host) {
        if (!isIpLiteral(san)) {
            return false;
        }
        try {
            return InetAddress.getByName(san).equals(InetAddress.getByName(host)); // literals: no lookup
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static boolean dnsMatches(String pattern, String host) {
        String p = strip(pattern);
        String h = strip(host);
        if (p.isEmpty() || h.isEmpty()) {
            return false;
        }
        if (!p.startsWith("*.")) {
            return p.equals(h);
        }
        String rest = p.substring(1); // ".nodes.example"
        if (rest.indexOf('*') >= 0 || rest.indexOf('.', 1) < 0) {
            return false; // one wildcard, leftmost, and not for a top-level domain ("*.com")
        }
        int dot = h.indexOf('.');
        return dot > 0 && h.substring(dot).equals(rest);
    }

    private static String strip(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }
}
