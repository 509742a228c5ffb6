package org.mtcp.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.ClientMigrations;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Dnsmasq;
import org.mtcp.server.testkit.Waits;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Membership from DNS SRV records, against a real DNS server (dnsmasq, a child process): servers on
 * 127.0.0.2, .3 and .4 take their peers and the alternates they advertise from it, follow it when a
 * server is removed or added, and keep their last list while it does not answer. No mock: the
 * records, the JDK's DNS provider, the servers and the client are all real.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DnsSrvMembershipTest {
    private static final String SERVICE = "_mtcp._tcp." + Dnsmasq.DOMAIN;
    private static final String CONTROL = "_mtcp-control._tcp." + Dnsmasq.DOMAIN;

    private static InetAddress host(int i) {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (2 + i)});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static String target(int i) {
        return "n" + i + "." + Dnsmasq.DOMAIN;
    }

    /** @return the records that publish servers {@code which} of {@code c}: a name, a service and a control SRV record each */
    private static List<String> records(Cluster c, int... which) {
        List<String> r = new ArrayList<>();
        for (int i : which) {
            r.add(Dnsmasq.host(target(i), host(i)));
            r.add(Dnsmasq.srv(SERVICE, target(i), c.address(i).getPort()));
            r.add(Dnsmasq.srv(CONTROL, target(i), ((InetSocketAddress) c.mappings().get(c.address(i))).getPort()));
        }
        return r;
    }

    private static DnsSrvMembership membership(Dnsmasq dns) {
        return DnsSrvMembership.builder(SERVICE).dnsServers(dns.address()).refreshInterval(Duration.ofMillis(200))
                .lookupTimeout(Duration.ofMillis(200), 2).build();
    }

    private static List<InetSocketAddress> advertised(Cluster c, int i) {
        try {
            return c.server(i).getOption(MtcpOptions.ADDITIONAL_SERVERS);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static Map<InetSocketAddress, SocketAddress> mappings(Cluster c, int i) throws IOException {
        return c.server(i).getOption(MtcpOptions.CONTROL_MAPPINGS);
    }

    /** @return the alternates a new client of server {@code i} is told at its handshake */
    private static List<InetSocketAddress> alternatesSeenByANewClient(Cluster c, int i) throws IOException {
        try (MtcpSocket s = new MtcpSocket()) {
            s.connect(c.address(i), 10_000);
            s.setSoTimeout(20_000);
            Apps.echoRoundTrip(s, 0, 1000);
            return s.getOption(MtcpOptions.ADDITIONAL_SERVERS);
        }
    }

    private static Set<InetSocketAddress> others(Cluster c, int i) {
        Set<InetSocketAddress> s = new HashSet<>();
        for (int k = 0; k < c.size(); k++) {
            if (k != i) {
                s.add(c.address(k));
            }
        }
        return s;
    }

    private static boolean refreshThreadRuns() {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(DnsSrvMembership.THREAD_NAME) && t.isAlive()) {
                return true;
            }
        }
        return false;
    }

    @Test
    void threeServersTakeTheirPeersFromDnsAndAClientMigratesAmongThem() throws Exception {
        try (Cluster c = Cluster.unmapped(3, i -> Apps.transformingEcho(64, 1), DnsSrvMembershipTest::host);
             Dnsmasq dns = Dnsmasq.start(records(c, 0, 1, 2))) {
            for (int i = 0; i < 3; i++) {
                c.server(i).setMembership(membership(dns)); // the first lookup is done when this returns
            }
            for (int i = 0; i < 3; i++) {
                assertEquals(c.mappings(), mappings(c, i), "server " + i + "'s control mappings are DNS's");
                assertEquals(others(c, i), Set.copyOf(advertised(c, i)), "server " + i + " advertises the two others");
            }
            try (MtcpSocket s = new MtcpSocket()) {
                ClientMigrations migrations = ClientMigrations.of(s);
                s.connect(c.address(0), 10_000);
                s.setSoTimeout(20_000);
                Apps.echoRoundTrip(s, 0, 10_000);
                assertEquals(Set.of(c.address(1), c.address(2)), Set.copyOf(s.getOption(MtcpOptions.ADDITIONAL_SERVERS)),
                        "the client was told the other two members");
                s.migrate(c.address(1));
                Apps.echoRoundTrip(s, 10_000, 100_000);
                assertEquals(c.address(1), s.currentServer());
                s.migrate(c.address(2));
                Apps.echoRoundTrip(s, 110_000, 100_000);
                assertEquals(c.address(2), s.currentServer());
                migrations.assertCommittedAtLeast(2, MigrationEvent.Initiation.CLIENT, c);
            }
            c.assertNoAppFailure();
        }
        assertTrue(Waits.until(() -> !refreshThreadRuns(), Duration.ofSeconds(10)),
                "closing the servers closed their memberships and the refresh threads ended");
    }

    @Test
    void aServerRemovedFromDnsIsNoLongerAdvertisedAndOneAddedIs() throws Exception {
        try (Cluster c = Cluster.unmapped(3, i -> Apps.transformingEcho(64, 1), DnsSrvMembershipTest::host);
             Dnsmasq dns = Dnsmasq.start(records(c, 0, 1))) {
            for (int i = 0; i < 3; i++) {
                c.server(i).setMembership(membership(dns)); // server 2 is not in DNS yet: its lists are refused for now
            }
            assertEquals(List.of(c.address(1)), advertised(c, 0));
            assertEquals(List.of(c.address(1)), alternatesSeenByANewClient(c, 0));

            dns.restart(records(c, 0, 2)); // server 1 leaves, server 2 joins
            assertTrue(Waits.until(() -> advertised(c, 0).equals(List.of(c.address(2))), Dnsmasq.patience()),
                    "server 0 follows DNS: it advertises " + advertised(c, 0));
            assertEquals(List.of(c.address(2)), alternatesSeenByANewClient(c, 0), "a new client hears of 2, not of 1");
            assertFalse(mappings(c, 0).containsKey(c.address(1)), "server 1 is no longer server 0's peer");
            assertTrue(Waits.until(() -> advertised(c, 2).equals(List.of(c.address(0))), Dnsmasq.patience()),
                    "server 2, now in DNS, took its list: it advertises " + advertised(c, 2));
            try (MtcpSocket s = new MtcpSocket()) {
                ClientMigrations migrations = ClientMigrations.of(s);
                s.connect(c.address(0), 10_000);
                s.setSoTimeout(20_000);
                Apps.echoRoundTrip(s, 0, 10_000);
                s.migrate(c.address(2));
                Apps.echoRoundTrip(s, 10_000, 100_000);
                assertEquals(c.address(2), s.currentServer(), "the server that joined takes a migration");
                migrations.assertCommittedAtLeast(1, MigrationEvent.Initiation.CLIENT, c);
            }

            dns.restart(List.of()); // every record gone: an authoritative NXDOMAIN, not a failure
            assertTrue(Waits.until(() -> advertised(c, 0).isEmpty(), Dnsmasq.patience()),
                    "no member left in DNS, none advertised: " + advertised(c, 0));
            assertEquals(List.of(), alternatesSeenByANewClient(c, 0));
            assertEquals(Set.of(c.address(0)), mappings(c, 0).keySet(), "server 0 keeps its own control endpoint only");
            c.assertNoAppFailure();
        }
    }

    @Test
    void whileDnsDoesNotAnswerTheLastListStaysAndItRecovers() throws Exception {
        try (Cluster c = Cluster.unmapped(3, i -> Apps.transformingEcho(64, 1), DnsSrvMembershipTest::host);
             Dnsmasq dns = Dnsmasq.start(records(c, 0, 1))) {
            DnsSrvMembership m0 = membership(dns);
            c.server(0).setMembership(m0);
            c.server(1).setMembership(membership(dns));
            assertEquals(List.of(c.address(1)), advertised(c, 0));
            String where = "127.0.0.1:" + dns.address().getPort();

            dns.pause(); // bound but silent: the queries time out
            assertTrue(Waits.until(() -> m0.consecutiveFailures() >= 2, Dnsmasq.patience()), "lookups fail while DNS is frozen");
            String timedOut = m0.lastFailure();
            assertTrue(timedOut.contains(where) && timedOut.contains(SERVICE) && timedOut.contains("the last 2 member(s) stay"),
                    timedOut);
            assertEquals(List.of(c.address(1)), advertised(c, 0), "the last list stays");
            assertEquals(List.of(c.address(1)), alternatesSeenByANewClient(c, 0));
            assertTrue(mappings(c, 0).containsKey(c.address(1)), "server 1 is still a peer");
            dns.resume();
            assertTrue(Waits.until(() -> m0.consecutiveFailures() == 0, Dnsmasq.patience()), "lookups answer again");

            dns.stop(); // gone: the queries are refused by the host (port unreachable)
            assertTrue(Waits.until(() -> m0.consecutiveFailures() >= 2, Dnsmasq.patience()), "lookups fail while DNS is down");
            String down = m0.lastFailure();
            assertTrue(down.contains(where) && down.contains(SERVICE), down);
            assertEquals(List.of(c.address(1)), advertised(c, 0), "the last list stays");
            assertEquals(List.of(c.address(1)), alternatesSeenByANewClient(c, 0));

            dns.restart(records(c, 0, 1, 2)); // back, with a server more
            c.server(2).setMembership(membership(dns));
            assertTrue(Waits.until(() -> Set.copyOf(advertised(c, 0)).equals(Set.of(c.address(1), c.address(2))),
                    Dnsmasq.patience()), "server 0 follows DNS again: " + advertised(c, 0));
            assertEquals(0, m0.consecutiveFailures());
            assertEquals(Set.of(c.address(1), c.address(2)), Set.copyOf(alternatesSeenByANewClient(c, 0)));
            c.assertNoAppFailure();
        }
    }

    @Test
    void aFirstLookupWithoutAnswerFailsTheCallClearlyAndMayBeTriedAgain() throws Exception {
        try (MtcpServerSocket s = new MtcpServerSocket(0, 50, host(0));
             Dnsmasq dns = Dnsmasq.start(List.of())) {
            InetSocketAddress self = new InetSocketAddress(host(0), s.getLocalPort());
            List<String> records = List.of(Dnsmasq.srv(SERVICE, host(0).getHostAddress(), s.getLocalPort()),
                    Dnsmasq.srv(CONTROL, host(0).getHostAddress(), freeTcpPort(host(0))));
            dns.stop();
            DnsSrvMembership m = membership(dns);
            IOException e = assertThrows(IOException.class, () -> s.setMembership(m));
            assertTrue(e.getMessage().contains("127.0.0.1:" + dns.address().getPort()) && e.getMessage().contains(SERVICE),
                    e.getMessage());
            assertFalse(refreshThreadRuns(), "nothing left running");

            dns.restart(records);
            s.setMembership(m); // the same membership, now that DNS answers
            assertEquals(Set.of(self), s.getOption(MtcpOptions.CONTROL_MAPPINGS).keySet());
            assertEquals(List.of(), s.getOption(MtcpOptions.ADDITIONAL_SERVERS));
            assertTrue(refreshThreadRuns());
        }
        assertTrue(Waits.until(() -> !refreshThreadRuns(), Duration.ofSeconds(10)), "closing the socket closed the membership");
    }

    private static int freeTcpPort(InetAddress host) throws IOException {
        try (ServerSocket free = new ServerSocket(0, 1, host)) {
            return free.getLocalPort();
        }
    }

    @Test
    void recordsBecomeMembersByTheirConventions() throws Exception {
        InetAddress a = host(4);
        InetAddress literal = host(3);
        String name = "a." + Dnsmasq.DOMAIN;
        List<String> records = List.of(
                Dnsmasq.host(name, a),
                Dnsmasq.host("nocontrol." + Dnsmasq.DOMAIN, a),
                Dnsmasq.srv(SERVICE, literal.getHostAddress(), 9001, 1),   // a literal address as target, a lower rank
                Dnsmasq.srv(SERVICE, name, 9003),                           // two servers on one host:
                Dnsmasq.srv(SERVICE, name, 9002),                           //   control records paired by port order
                Dnsmasq.srv(SERVICE, "noaddress." + Dnsmasq.DOMAIN, 9004),  // no A record: not a member
                Dnsmasq.srv(SERVICE, "nocontrol." + Dnsmasq.DOMAIN, 9005),  // no control record: not a member
                Dnsmasq.srv(CONTROL, literal.getHostAddress(), 7001),
                Dnsmasq.srv(CONTROL, name, 7003),
                Dnsmasq.srv(CONTROL, name, 7002),
                Dnsmasq.srv(CONTROL, "noaddress." + Dnsmasq.DOMAIN, 7004));
        try (Dnsmasq dns = Dnsmasq.start(records)) {
            List<List<Member>> seen = new CopyOnWriteArrayList<>();
            try (DnsSrvMembership m = membership(dns)) {
                m.watch(seen::add);
                assertEquals(List.of(List.of(
                        new Member(new InetSocketAddress(a, 9002), new InetSocketAddress(a, 7002)),
                        new Member(new InetSocketAddress(a, 9003), new InetSocketAddress(a, 7003)),
                        new Member(new InetSocketAddress(literal, 9001), new InetSocketAddress(literal, 7001)))), seen);
                assertEquals(2, m.problems().size(), m.problems().toString());
                assertTrue(m.problems().get(0).contains("noaddress") && m.problems().get(1).contains("nocontrol"),
                        m.problems().toString());
                assertThrows(IllegalStateException.class, () -> m.watch(seen::add));
            }
            try (DnsSrvMembership fixed = DnsSrvMembership.builder(SERVICE + ".").dnsServers(dns.address()).controlPort(7777)
                    .build()) {
                List<Member> got = new ArrayList<>();
                fixed.watch(got::addAll);
                assertEquals(List.of(
                        new Member(new InetSocketAddress(a, 9002), new InetSocketAddress(a, 7777)),
                        new Member(new InetSocketAddress(a, 9003), new InetSocketAddress(a, 7777)),
                        new Member(new InetSocketAddress(a, 9005), new InetSocketAddress(a, 7777)),
                        new Member(new InetSocketAddress(literal, 9001), new InetSocketAddress(literal, 7777))), got,
                        "with one control port for all, every record with an address is a member");
            }
        }
    }

    /** A membership the test drives by hand: what MtcpServerSocket does with each list, without DNS. */
    private static final class Pushed implements Membership {
        private volatile java.util.function.Consumer<List<Member>> listener;

        @Override
        public void watch(java.util.function.Consumer<List<Member>> l) {
            listener = l;
        }

        void push(List<Member> members) {
            listener.accept(members);
        }

        @Override
        public void close() {
            listener = null;
        }
    }

    @Test
    void aClosedServerSocketTakesNoMembershipAndClosesTheOneItFollowed() throws Exception {
        MtcpServerSocket s = new MtcpServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Pushed followed = new Pushed();
        s.setMembership(followed);
        assertTrue(followed.listener != null, "watched");
        s.close();
        assertTrue(followed.listener == null, "closed with the socket");
        Pushed late = new Pushed();
        SocketException e = assertThrows(SocketException.class, () -> s.setMembership(late));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertTrue(late.listener == null, "a closed socket never watches: nothing would close it");
    }

    @Test
    void aListTheServerRefusesChangesNeitherItsPeersNorItsAlternates() throws Exception {
        try (Cluster c = Cluster.unmapped(2, i -> Apps.transformingEcho(64, 1), DnsSrvMembershipTest::host)) {
            Pushed p = new Pushed();
            c.server(0).setMembership(p);
            Member m0 = new Member(c.address(0), c.mappings().get(c.address(0)));
            Member m1 = new Member(c.address(1), c.mappings().get(c.address(1)));
            p.push(List.of(m0, m1));
            assertEquals(c.mappings(), mappings(c, 0));
            assertEquals(List.of(c.address(1)), advertised(c, 0));

            InetAddress far = InetAddress.getByName("192.0.2.7"); // across a network: needs CONTROL_TLS, not set
            p.push(List.of(m0, new Member(new InetSocketAddress(far, 4000), new InetSocketAddress(far, 4001))));
            assertEquals(c.mappings(), mappings(c, 0), "the refused list left the peers as they were");
            assertEquals(List.of(c.address(1)), advertised(c, 0), "and the alternates: none the server would not take as a peer");

            p.push(List.of()); // no member at all: no peer, no alternate, its own control endpoint kept
            assertEquals(Set.of(c.address(0)), mappings(c, 0).keySet());
            assertEquals(List.of(), advertised(c, 0));
        }
    }
    @Test
    void aServerNotYetInTheListKeepsTheOwnEntryItWasGivenAndTakesThePeers() throws Exception {
        try (Cluster c = Cluster.unmapped(2, i -> Apps.transformingEcho(64, 1), DnsSrvMembershipTest::host)) {
            Member m0 = new Member(c.address(0), c.mappings().get(c.address(0)));
            Member m1 = new Member(c.address(1), c.mappings().get(c.address(1)));
            Pushed without = new Pushed();
            c.server(0).setMembership(without);
            without.push(List.of(m1)); // no entry of its own anywhere: refused
            assertEquals(Map.of(), mappings(c, 0));
            assertEquals(List.of(), advertised(c, 0), "nothing advertised that the server cannot cooperate with");

            Pushed p = new Pushed();
            c.server(1).setOption(MtcpOptions.CONTROL_MAPPINGS, Map.of(c.address(1), c.mappings().get(c.address(1))));
            c.server(1).setMembership(p);
            p.push(List.of(m0)); // as DNS before this server is ready: the others only
            assertEquals(c.mappings(), mappings(c, 1), "its own entry kept, the peer added");
            assertEquals(List.of(c.address(0)), advertised(c, 1));
        }
    }
}
