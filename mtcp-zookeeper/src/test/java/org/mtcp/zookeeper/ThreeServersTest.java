package org.mtcp.zookeeper;

import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Three servers that register in a real (in-process) ZooKeeper and follow each other through it. */
@Timeout(120)
class ThreeServersTest {
    private TestingServer zk;
    private final List<Node> nodes = new ArrayList<>();

    @BeforeEach
    void startZooKeeper() throws Exception {
        zk = new TestingServer(true);
    }

    @AfterEach
    void stop() throws IOException {
        for (Node n : nodes) {
            n.close();
        }
        zk.close();
    }

    private Node node() throws IOException {
        Node n = new Node(r -> ZooKeeperMembership.builder(zk.getConnectString(), "cluster-a")
                .register(r.service(), r.control())
                .build());
        nodes.add(n);
        return n;
    }

    @Test
    void eachServerFollowsTheOthersAndAClientMigratesAcrossThem() throws Exception {
        Node a = node();
        Node b = node();
        Node c = node();
        for (Node n : nodes) {
            Waits.until(n.service + " maps and advertises the other two", () -> n.follows(a, b, c), n::describe);
        }
        try (MtcpSocket s = new MtcpSocket(a.service.getAddress(), a.service.getPort())) {
            List<MigrationEvent> events = new CopyOnWriteArrayList<>();
            s.addMigrationListener(events::add);
            assertEquals(Set.of(b.service, c.service), new HashSet<>(s.getOption(MtcpOptions.ADDITIONAL_SERVERS)),
                    "the alternates the first server advertised");
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            long offset = 0;
            offset = exchange(in, out, offset, 100_000);
            s.migrate(b.service);
            assertEquals(b.service, s.getRemoteSocketAddress());
            offset = exchange(in, out, offset, 100_000);
            s.migrate(c.service);
            assertEquals(c.service, s.getRemoteSocketAddress());
            offset = exchange(in, out, offset, 100_000);
            s.shutdownOutput();
            assertEquals(-1, in.read(), "the end of the stream after every byte");
            assertEquals(300_000, offset);
            assertEquals(2, events.stream().filter(MigrationEvent::committed).count(), "committed migrations: " + events);
        }
        for (Node n : nodes) {
            assertNull(n.appFailure.get(), () -> "server application failed: " + n.appFailure.get());
        }
    }

    @Test
    void theFirstListIsAppliedBeforeSetMembershipReturnsAndHoldsTheServerItself() throws Exception {
        Node a = node();
        assertTrue(a.follows(a), a.describe()); // no poll: watch() delivered the first list itself
        assertEquals(Set.of(a.service), a.lastMembers());
        assertEquals(List.of(), a.server.getOption(MtcpOptions.ADDITIONAL_SERVERS));
    }

    /** Writes {@code n} bytes in 4 KiB chunks, each read back transformed and compared. */
    static long exchange(InputStream in, OutputStream out, long offset, int n) throws IOException {
        byte[] chunk = new byte[4096];
        byte[] back = new byte[4096];
        byte[] expected = new byte[4096];
        int done = 0;
        while (done < n) {
            int len = Math.min(chunk.length, n - done);
            for (int k = 0; k < len; k++) {
                long i = offset + k;
                chunk[k] = (byte) (i * 7 + (i >>> 11));
                expected[k] = Node.transform(chunk[k], i);
            }
            out.write(chunk, 0, len);
            int got = 0;
            while (got < len) {
                int r = in.read(back, got, len - got);
                if (r < 0) {
                    throw new IOException("end of stream at offset " + (offset + got));
                }
                got += r;
            }
            assertArrayEquals(java.util.Arrays.copyOf(expected, len), java.util.Arrays.copyOf(back, len),
                    "bytes at offset " + offset);
            offset += len;
            done += len;
        }
        return offset;
    }
}
