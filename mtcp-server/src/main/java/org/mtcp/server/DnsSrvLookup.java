package org.mtcp.server;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.regex.Pattern;

import javax.naming.Context;
import javax.naming.NameNotFoundException;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.Attributes;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;

/**
 * One lookup of a {@link DnsSrvMembership}'s members through the JDK's JNDI DNS provider: the service
 * SRV records, the control SRV records (or a fixed control port), and the targets' addresses, all
 * from the same DNS servers.
 */
final class DnsSrvLookup {
    /** A lookup that got no answer, or an error answer: the last member list stays. */
    static final class Failure extends Exception {
        Failure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * @param members  the members, in the order of {@link #ORDER}
     * @param problems records that named no usable member (a target without an address or without a control record)
     */
    record Result(List<Member> members, List<String> problems) {
    }

    /** One SRV record. */
    record Srv(int priority, int weight, int port, String target) {
    }

    /** A member with the priority of its record. */
    record Ranked(int priority, Member member) {
    }

    /** By priority, then address, then port: the same records always give the same list. */
    static final Comparator<Ranked> ORDER = Comparator.comparingInt(Ranked::priority)
            .thenComparing(r -> r.member().service().getAddress().getHostAddress())
            .thenComparingInt(r -> r.member().service().getPort());

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private final String serviceName;
    /** The control SRV name, or {@code null} with a fixed control port. */
    private final String controlName;
    private final int controlPort;
    private final String providerUrl;
    private final Hashtable<String, String> env = new Hashtable<>();

    DnsSrvLookup(String serviceName, String controlName, int controlPort, List<InetSocketAddress> dnsServers,
                 Duration firstAttempt, int attempts) {
        this.serviceName = serviceName;
        this.controlName = controlName;
        this.controlPort = controlPort;
        this.providerUrl = providerUrl(dnsServers);
        env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.dns.DnsContextFactory");
        env.put(Context.PROVIDER_URL, providerUrl);
        env.put("com.sun.jndi.dns.timeout.initial", Long.toString(firstAttempt.toMillis()));
        env.put("com.sun.jndi.dns.timeout.retries", Integer.toString(attempts));
    }

    /** @return JNDI's provider URL: {@code dns:} for the system's resolvers, else the servers separated by spaces */
    static String providerUrl(List<InetSocketAddress> servers) {
        if (servers.isEmpty()) {
            return "dns:";
        }
        StringJoiner j = new StringJoiner(" ");
        for (InetSocketAddress s : servers) {
            String host = s.getAddress() instanceof Inet6Address ? "[" + s.getAddress().getHostAddress() + "]"
                    : s.isUnresolved() ? s.getHostString() : s.getAddress().getHostAddress();
            j.add("dns://" + host + ":" + s.getPort());
        }
        return j.toString();
    }

    /** @return {@code name} without its trailing dot, lower case */
    static String checkName(String name, String what) {
        String n = name == null ? "" : name.strip();
        if (n.endsWith(".")) {
            n = n.substring(0, n.length() - 1);
        }
        if (n.isEmpty() || n.contains(" ") || n.contains("..") || n.startsWith(".")) {
            throw new IllegalArgumentException("bad DNS " + what + " '" + name + "'");
        }
        return n.toLowerCase(Locale.ROOT);
    }

    /** @return the service name with {@code -control} after its first label: {@code _mtcp._tcp.x} gives {@code _mtcp-control._tcp.x} */
    static String defaultControlName(String serviceName) {
        int dot = serviceName.indexOf('.');
        return dot < 0 ? serviceName + "-control" : serviceName.substring(0, dot) + "-control" + serviceName.substring(dot);
    }

    /** @return the members as DNS has them now */
    Result lookup() throws Failure {
        DirContext ctx;
        try {
            ctx = new InitialDirContext(env);
        } catch (NamingException e) {
            throw new Failure("DNS lookup of " + serviceName + ": no DNS context for " + providerUrl + ": " + why(e), e);
        }
        try {
            List<Srv> service = srv(ctx, serviceName);
            if (service.isEmpty()) {
                return new Result(List.of(), List.of());
            }
            Map<String, List<Srv>> controls = controlName == null ? Map.of() : byTarget(srv(ctx, controlName));
            List<String> problems = new ArrayList<>();
            List<Ranked> ranked = new ArrayList<>();
            for (Map.Entry<String, List<Srv>> e : byTarget(service).entrySet()) {
                String target = e.getKey();
                List<Srv> records = e.getValue();
                InetAddress address = resolve(ctx, target);
                if (address == null) {
                    problems.add("target " + target + " of " + serviceName + " has no address (no A or AAAA record): not a member");
                    continue;
                }
                int[] control = new int[records.size()];
                if (controlName == null) {
                    Arrays.fill(control, controlPort);
                } else {
                    List<Srv> c = controls.get(target);
                    if (c == null || c.size() != records.size()) {
                        problems.add("target " + target + " has " + records.size() + " " + serviceName + " record(s) and "
                                + (c == null ? 0 : c.size()) + " " + controlName + " record(s) (one control record per service"
                                + " record, same target, is needed): not a member");
                        continue;
                    }
                    for (int i = 0; i < control.length; i++) {
                        control[i] = c.get(i).port();
                    }
                }
                for (int i = 0; i < control.length; i++) {
                    Srv r = records.get(i);
                    ranked.add(new Ranked(r.priority(), new Member(new InetSocketAddress(address, r.port()),
                            new InetSocketAddress(address, control[i]))));
                }
            }
            ranked.sort(ORDER);
            List<Member> members = new ArrayList<>();
            Set<InetSocketAddress> seen = new HashSet<>();
            for (Ranked r : ranked) {
                if (seen.add(r.member().service())) {
                    members.add(r.member());
                }
            }
            return new Result(List.copyOf(members), List.copyOf(problems));
        } finally {
            try {
                ctx.close();
            } catch (NamingException ignored) {
                // nothing held open
            }
        }
    }

    /**
     * @return the SRV records of {@code name}, empty when the name does not exist or has none (an
     * answer: nothing is published there); targets {@code .} (RFC 2782: not available here) left out
     */
    private List<Srv> srv(DirContext ctx, String name) throws Failure {
        List<String> values = query(ctx, name, "SRV");
        List<Srv> out = new ArrayList<>();
        for (String v : values) {
            String[] f = v.strip().split("\\s+");
            if (f.length != 4) {
                throw new Failure("DNS lookup of SRV " + name + " at " + providerUrl + ": unreadable record '" + v + "'", null);
            }
            String target = f[3].endsWith(".") ? f[3].substring(0, f[3].length() - 1) : f[3];
            int priority;
            int weight;
            int port;
            try {
                priority = Integer.parseInt(f[0]);
                weight = Integer.parseInt(f[1]);
                port = Integer.parseInt(f[2]);
            } catch (NumberFormatException e) {
                throw new Failure("DNS lookup of SRV " + name + " at " + providerUrl + ": unreadable record '" + v + "'", e);
            }
            if (!target.isEmpty() && port > 0 && port <= 65535) {
                out.add(new Srv(priority, weight, port, target.toLowerCase(Locale.ROOT)));
            }
        }
        return out;
    }

    /** @return the records by target (sorted), each target's by port */
    private static Map<String, List<Srv>> byTarget(List<Srv> records) {
        Map<String, List<Srv>> m = new TreeMap<>();
        for (Srv r : records) {
            m.computeIfAbsent(r.target(), k -> new ArrayList<>()).add(r);
        }
        for (List<Srv> l : m.values()) {
            l.sort(Comparator.comparingInt(Srv::port));
        }
        return m;
    }

    /**
     * @return the address of an SRV target: a literal address as it is, else its lowest A record, or
     * its lowest AAAA record when it has no A; {@code null} when it has neither
     */
    private InetAddress resolve(DirContext ctx, String target) throws Failure {
        if (IPV4.matcher(target).matches() || target.contains(":")) {
            try {
                return InetAddress.getByName(target); // a literal: parsed, never looked up
            } catch (UnknownHostException e) {
                return null;
            }
        }
        for (String type : new String[] {"A", "AAAA"}) {
            List<String> values = query(ctx, target, type);
            InetAddress lowest = null;
            for (String v : values) {
                try {
                    InetAddress a = InetAddress.getByName(v.strip());
                    if (lowest == null || a.getHostAddress().compareTo(lowest.getHostAddress()) < 0) {
                        lowest = a;
                    }
                } catch (UnknownHostException e) {
                    throw new Failure("DNS lookup of " + type + " " + target + " at " + providerUrl + ": unreadable record '"
                            + v + "'", e);
                }
            }
            if (lowest != null) {
                return lowest;
            }
        }
        return null;
    }

    /** @return the values of {@code type} records of {@code name}: none when the name does not exist or has none */
    private List<String> query(DirContext ctx, String name, String type) throws Failure {
        try {
            Attributes attrs = ctx.getAttributes(name + ".", new String[] {type});
            Attribute a = attrs.get(type);
            List<String> out = new ArrayList<>();
            if (a != null) {
                for (int i = 0; i < a.size(); i++) {
                    out.add(String.valueOf(a.get(i)));
                }
            }
            return out;
        } catch (NameNotFoundException e) {
            return List.of(); // NXDOMAIN: an answer, the name is not (or no longer) published
        } catch (NamingException e) {
            throw failure(type, name, e);
        }
    }

    private Failure failure(String type, String name, NamingException e) {
        return new Failure("DNS lookup of " + type + " " + name + " at " + providerUrl + " failed: " + why(e), e);
    }

    private static String why(NamingException e) {
        Throwable root = e.getRootCause();
        return e.getClass().getSimpleName() + ": " + e.getExplanation() + (root == null ? "" : " (" + root + ")");
    }

    @Override
    public String toString() {
        return serviceName + " at " + providerUrl + (controlName != null ? ", control from SRV " + controlName
                : ", control port " + controlPort);
    }
}
