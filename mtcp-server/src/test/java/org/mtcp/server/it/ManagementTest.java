package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.MtcpServerSocket;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.RuntimeMBeanException;
import javax.management.openmbean.TabularData;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JMX surface, through the platform MBean server as jconsole or jmxterm reach it (attributes by name,
 * operations by signature): names, attributes, move, drain, the third-party requestMove, and unregistration.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ManagementTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();
    private static final String[] TWO_STRINGS = {String.class.getName(), String.class.getName()};
    private static final String[] THREE_STRINGS = {String.class.getName(), String.class.getName(), String.class.getName()};

    @Test
    void aServerSocketIsManagedOverJmxWhileBound() throws Exception {
        MBeanServer mbs = ManagementFactory.getPlatformMBeanServer();
        try (Cluster c = new Cluster(3, i -> Apps.transformingEcho(32, 1));
             MtcpSocket s = new MtcpSocket(LO, c.address(0).getPort())) {
            s.setSoTimeout(20_000);
            Apps.echoRoundTrip(s, 0, 100);
            ObjectName[] names = new ObjectName[3];
            for (int i = 0; i < 3; i++) {
                names[i] = new ObjectName("org.mtcp:type=MtcpServerSocket,port=" + c.address(i).getPort());
                assertTrue(mbs.isRegistered(names[i]), names[i] + " is registered");
            }
            ObjectName n0 = names[0];
            assertTrue(Waits.until(() -> attribute(mbs, n0, "SessionCount").equals(1), Duration.ofSeconds(10)));
            String[] ids = (String[]) mbs.getAttribute(n0, "SessionIds");
            assertEquals(1, ids.length);
            assertArrayEquals(new String[] {c.server(0).sessions().get(0).id()}, ids);
            String[] lines = (String[]) mbs.getAttribute(n0, "Sessions");
            assertTrue(lines[0].startsWith(ids[0]) && lines[0].contains("movable"), lines[0]);
            assertEquals(2, ((String[]) mbs.getAttribute(n0, "AdvertisedServers")).length);

            String went = (String) mbs.invoke(n0, "move", new Object[] {ids[0], hostPort(c.address(1))}, TWO_STRINGS);
            assertEquals(hostPort(c.address(1)), went);
            assertEquals(1L, mbs.getAttribute(n0, "MigrationsCommitted"));
            assertTrue(Waits.until(() -> c.address(1).equals(s.currentServer()), Duration.ofSeconds(10)));
            Apps.echoRoundTrip(s, 100, 100);

            // the third party: server 2 asks server 1 (the holder now) to move the session to server 0
            went = (String) mbs.invoke(names[2], "requestMove", new Object[] {hostPort(c.address(1)), ids[0],
                hostPort(c.address(0))}, THREE_STRINGS);
            assertEquals(hostPort(c.address(0)), went);
            assertTrue(Waits.until(() -> c.address(0).equals(s.currentServer()), Duration.ofSeconds(10)));
            Apps.echoRoundTrip(s, 200, 100);

            int moved = (Integer) mbs.invoke(n0, "drain", new Object[] {hostPort(c.address(1)) + "," + hostPort(c.address(2))},
                    new String[] {String.class.getName()});
            assertEquals(1, moved);
            assertEquals(0, mbs.getAttribute(n0, "SessionCount"));
            assertTrue(Waits.until(() -> !c.address(0).equals(s.currentServer()), Duration.ofSeconds(10)));
            Apps.echoRoundTrip(s, 300, 100);

            // a refusal comes back as a JDK exception with the reason
            RuntimeMBeanException refused = assertThrows(RuntimeMBeanException.class, () -> mbs.invoke(n0, "move",
                    new Object[] {"00112233445566778899aabbccddeeff", hostPort(c.address(1))}, TWO_STRINGS));
            IllegalStateException cause = assertInstanceOf(IllegalStateException.class, refused.getCause());
            assertTrue(cause.getMessage().contains("UNKNOWN_SESSION"), cause.getMessage());
            RuntimeMBeanException badTarget = assertThrows(RuntimeMBeanException.class, () -> mbs.invoke(n0, "move",
                    new Object[] {ids[0], "nowhere"}, TWO_STRINGS));
            assertInstanceOf(IllegalArgumentException.class, badTarget.getCause());
            // server 0 saw three migrations: out (move), in (the third party's), out (drain); none failed. The origin
            // counts a commit before the session shows as moved, so the drain's return finds it counted
            assertEquals(3L, mbs.getAttribute(n0, "MigrationsCommitted"));
            assertEquals(0L, mbs.getAttribute(n0, "MigrationsFailed"));
            TabularData failed = (TabularData) mbs.getAttribute(n0, "MigrationsFailedByReason");
            assertTrue(failed.isEmpty(), "nothing failed: " + failed);

            c.server(0).close();
            assertFalse(mbs.isRegistered(n0), "unregistered on close");
        }
    }

    @Test
    void twoServerSocketsOnOnePortOfTwoAddressesGetNamesOfTheirOwn() throws Exception {
        MBeanServer mbs = ManagementFactory.getPlatformMBeanServer();
        try (MtcpServerSocket a = new MtcpServerSocket(0, 50, InetAddress.getByName("127.0.0.2"));
             MtcpServerSocket b = new MtcpServerSocket(a.getLocalPort(), 50, InetAddress.getByName("127.0.0.3"))) {
            ObjectName plain = new ObjectName("org.mtcp:type=MtcpServerSocket,port=" + a.getLocalPort());
            ObjectName withAddress = new ObjectName("org.mtcp:type=MtcpServerSocket,port=" + a.getLocalPort()
                    + ",address=" + ObjectName.quote("127.0.0.3"));
            assertTrue(mbs.isRegistered(plain));
            assertTrue(mbs.isRegistered(withAddress));
            assertEquals(0, mbs.getAttribute(withAddress, "SessionCount"));
            assertEquals(0, ((String[]) mbs.getAttribute(withAddress, "ControlPeers")).length, "no mappings, no peers");
            b.close();
            assertFalse(mbs.isRegistered(withAddress));
        }
    }

    @Test
    void theControlConnectionsShowOverJmx() throws Exception {
        MBeanServer mbs = ManagementFactory.getPlatformMBeanServer();
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(32, 1))) { // lazy: no connection before a migration
            ObjectName n0 = new ObjectName("org.mtcp:type=MtcpServerSocket,port=" + c.address(0).getPort());
            String peer = hostPort(c.address(1)) + " control " + hostPort((InetSocketAddress) c.mappings().get(c.address(1)));
            assertArrayEquals(new String[] {peer + ": none (opened by the pair's next migration)"},
                    (String[]) mbs.getAttribute(n0, "ControlPeers"));
        }
        try (Cluster c = new Cluster(2, i -> Apps.transformingEcho(32, 1), false)) {
            ObjectName[] n = {new ObjectName("org.mtcp:type=MtcpServerSocket,port=" + c.address(0).getPort()),
                new ObjectName("org.mtcp:type=MtcpServerSocket,port=" + c.address(1).getPort())};
            String toS2 = hostPort(c.address(1)) + " control " + hostPort((InetSocketAddress) c.mappings().get(c.address(1))) + ": ";
            String toS1 = hostPort(c.address(0)) + " control " + hostPort((InetSocketAddress) c.mappings().get(c.address(0))) + ": ";
            c.server(0).setOption(MtcpOptions.CONTROL_OPEN_AHEAD, true);
            c.server(0).setOption(MtcpOptions.CONTROL_MAPPINGS, c.mappings()); // S2's listener is not up
            assertTrue(Waits.until(() -> {
                String[] peers = lines(mbs, n[0], "ControlPeers");
                return peers.length == 1 && peers[0].matches(Pattern.quote(toS2) + "none, try \\d+ in \\d+ ms");
            }, Duration.ofSeconds(10)), "S1 shows its next try to S2: " + Arrays.toString((String[]) mbs.getAttribute(n[0],
                    "ControlPeers")));
            String[] reasons = (String[]) mbs.getAttribute(n[0], "ControlCloseReasons");
            assertTrue(reasons.length >= 1 && reasons[reasons.length - 1].contains(":" + c.address(1).getPort()),
                    "the failed try's reason names S2: " + Arrays.toString(reasons));
            c.server(1).setOption(MtcpOptions.CONTROL_MAPPINGS, c.mappings()); // S2 comes up, lazy itself
            assertTrue(Waits.until(() -> Arrays.equals(new String[] {toS2 + "open"}, lines(mbs, n[0], "ControlPeers"))
                    && Arrays.equals(new String[] {toS1 + "open"}, lines(mbs, n[1], "ControlPeers")),
                    Duration.ofSeconds(10)), "open on both sides: " + Arrays.toString((String[]) mbs.getAttribute(n[0],
                    "ControlPeers")) + " / " + Arrays.toString((String[]) mbs.getAttribute(n[1], "ControlPeers")));
        }
    }

    /** @return a String[] attribute, or one line saying what reading it threw */
    private static String[] lines(MBeanServer mbs, ObjectName n, String a) {
        Object v = attribute(mbs, n, a);
        return v instanceof String[] ? (String[]) v : new String[] {"(reading " + a + " failed: " + v + ")"};
    }

    private static Object attribute(MBeanServer mbs, ObjectName n, String a) {
        try {
            return mbs.getAttribute(n, a);
        } catch (Exception e) {
            return e;
        }
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }
}
