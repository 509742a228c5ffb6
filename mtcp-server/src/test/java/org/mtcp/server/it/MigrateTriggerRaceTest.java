package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationException;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Background;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Waits;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A client MIGRATE racing a server TRIGGER to another server, many times: one wins, nothing is lost. */
class MigrateTriggerRaceTest {
    private static final int ITERATIONS = 60;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void clientMigrateRacingServerTrigger() throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (Cluster c = new Cluster(3, i -> Apps.transformingEcho(32, 1));
             MtcpSocket s = new MtcpSocket(lo, c.address(0).getPort())) {
            s.setSoTimeout(20_000);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicInteger clientWins = new AtomicInteger();
            CyclicBarrier gate = new CyclicBarrier(2);
            long offset = 0;
            for (int it = 0; it < ITERATIONS && failure.get() == null; it++) {
                int here = c.indexOf(s.currentServer());
                int clientTo = (here + 1) % 3;
                int triggerTo = (here + 2) % 3;
                Socket serving = awaitServing(c, s);
                Background<Void> trigger = Background.run("trigger " + it, () -> {
                    gate.await(10, TimeUnit.SECONDS);
                    try {
                        serving.setOption(MtcpOptions.TRIGGER, c.address(triggerTo));
                    } catch (IOException e) {
                        // the session moved before the trigger: fine
                    }
                });
                gate.await(10, TimeUnit.SECONDS);
                try {
                    s.migrate(c.address(clientTo));
                    clientWins.incrementAndGet();
                } catch (MigrationException e) {
                    if (!e.sessionAlive()) {
                        failure.compareAndSet(null, e);
                    }
                }
                trigger.await(Duration.ofSeconds(10)); // fails if the trigger did not return, or threw
                offset = echo(s, offset, 2000, "iteration " + it + " (on " + s.currentServer() + ")");
            }
            if (failure.get() != null) {
                throw new AssertionError("failed after " + offset + " bytes echoed", failure.get());
            }
            assertTrue(clientWins.get() > 0, "the client's migrations took effect");
            c.assertNoAppFailure();
        }
    }

    private static Socket awaitServing(Cluster c, MtcpSocket s) throws InterruptedException {
        if (!Waits.until(() -> c.serving(s.getLocalPort()) != null, Duration.ofSeconds(10))) {
            throw new AssertionError("no server application serves the session");
        }
        return c.serving(s.getLocalPort());
    }

    private static long echo(MtcpSocket s, long from, int n, String where) throws IOException {
        byte[] b = new byte[n];
        for (int k = 0; k < n; k++) {
            b[k] = Apps.streamByte(9, from + k);
        }
        s.getOutputStream().write(b);
        byte[] got = new byte[n];
        Apps.readFully(s.getInputStream(), got);
        for (int k = 0; k < n; k++) {
            assertEquals(Apps.transform(b[k], from + k), got[k], "byte " + (from + k) + " of the echo, " + where);
        }
        return from + n;
    }
}
