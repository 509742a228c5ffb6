package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MigrationEvent;
import org.mtcp.api.MigrationException;
import org.mtcp.client.internal.ClientInternals;
import org.mtcp.client.internal.ClientSession;
import org.mtcp.internal.session.Settings;
import org.mtcp.internal.wire.Message;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.WireTestKit;
import org.mtcp.server.testkit.Script;
import org.mtcp.server.testkit.Waits;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An origin whose destination never commits (thesis 4.2.3: the origin keeps the session frozen only
 * until its deadline). The destination is played by hand on S1's control port: CTRL_HELLO as S2,
 * a STATE_REQUEST with the client's real proof, the STATE_REPLY read, and then no STATE_ACK or
 * STATE_ABORT. Meanwhile the session is frozen at S1 (the application's reads wait, its writes stay
 * unsent, the client's bytes stay unread); at the freeze deadline, or at once when the control
 * connection closes, it resumes at S1 with no byte lost, and S1 reports a failed ORIGIN migration.
 *
 * <p>The deadline case needs a short {@code mtcp.freezeTimeoutMillis}, read once per JVM: it runs in
 * a child JVM ({@link Child}); the close case runs here with the default settings.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FreezeTimeoutTest {
    /** The freeze deadline of the child JVM. */
    static final long CHILD_FREEZE_MILLIS = 5000;

    @Test
    void destinationThatNeverCommitsIsDroppedAtTheFreezeDeadline() throws Exception {
        ChildJvm.Result r = ChildJvm.run(Child.class, Map.of("mtcp.freezeTimeoutMillis", String.valueOf(CHILD_FREEZE_MILLIS)),
                Duration.ofSeconds(90));
        System.out.println("FreezeTimeoutTest child JVM:\n" + r.output);
        ChildJvm.assertPassed(r, Child.OK);
    }

    @Test
    void closingTheControlConnectionUnfreezesAtOnce() throws Exception {
        scenario(true);
    }

    /**
     * A read already blocked when the session freezes sits in its wait for the connection (the freeze does not wake
     * it): the client's bytes that arrive while the session is frozen are not read, and once the freeze ends the same
     * read gets them, with no byte lost or doubled.
     */
    @Test
    void aReadBlockedBeforeTheFreezeGetsTheClientsBytesOnlyAfterIt() throws Exception {
        StepApp app = new StepApp()
                .read(1000).write(1000).export()   // 0-2: before the freeze
                .read(500)                         // 3: blocked before the freeze, through it
                .write(100);                       // 4: after it
        try (Cluster c = new Cluster(2, i -> app.app())) {
            Started started = startOn(c, app);
            ClientSession client = started.client();
            OutputStream up = started.up();
            InputStream down = started.down();
            app.allow(4);
            Thread.sleep(200); // lets step 3's read start waiting for the connection (it finds nothing to read)

            Socket control = HandPlayed.openControl(c.mappings().get(c.address(0)), c.address(1));
            try {
                HandPlayed.send(control, WireTestKit.stateRequest(7,
                        ClientInternals.request(client, 1, c.address(0), c.address(1), 1000, 1 << 20)));
                Message.StateReply reply = HandPlayed.expect(control, Message.StateReply.class, "the answer to STATE_REQUEST");
                assertEquals(1000, reply.state().upSnap, "the snapshot was taken after the application read 1000 bytes");

                up.write(Script.pattern(Script.UP, 1000, 500)); // reaches S1's connection while the session is frozen
                Thread.sleep(300); // time for them to arrive and, were the link read while frozen, to be read
                assertEquals(3, app.completed.get(), "the blocked read did not take the client's bytes while frozen");

                control.close(); // the destination is gone: S1 unfreezes
                app.runTo(5);
                Script.expectDown(down, 1000, 100);
                assertTrue(Waits.until(() -> !c.events.isEmpty(), Duration.ofSeconds(10)), "S1 reports the outcome");
                MigrationException failure = c.events.get(0).failure();
                assertNotNull(failure, "the migration did not commit: " + c.events);
                assertTrue(failure.sessionAlive(), "the session goes on at S1: " + failure);
                assertEquals(c.address(0), client.server(), "the client is still on S1");
            } finally {
                control.close();
            }
            client.close();
            c.assertNoAppFailure();
        }
    }

    /** A client session on S1 and its streams. */
    private record Started(ClientSession client, OutputStream up, InputStream down) {
    }

    /** Connects to S1 and runs the steps before the freeze (1000 bytes each way, then the export). */
    private static Started startOn(Cluster c, StepApp app) throws Exception {
        ClientSession client = ClientInternals.connect(c.address(0), null);
        OutputStream up = ClientInternals.output(client);
        InputStream down = ClientInternals.input(client, 20_000);
        up.write(Script.pattern(Script.UP, 0, 1000));
        app.runTo(3);
        Script.expectDown(down, 0, 1000);
        return new Started(client, up, down);
    }

    /** The scenario in its own JVM, with the short freeze deadline. */
    static final class Child {
        static final String OK = "FREEZE-TIMEOUT-SCENARIO-OK";

        public static void main(String[] args) {
            ChildJvm.exitWith(OK, () -> {
                assertEquals(CHILD_FREEZE_MILLIS, Settings.FREEZE_TIMEOUT_MILLIS, "the child JVM's freeze deadline");
                scenario(false);
            });
        }
    }

    /**
     * @param closeControl end the freeze by closing the hand-played control connection, instead of
     *                     waiting for the origin's deadline
     */
    static void scenario(boolean closeControl) throws Exception {
        StepApp app = new StepApp()
                .read(1000).write(1000).export()   // 0-2: before the freeze
                .write(700).read(500)              // 3-4: while frozen
                .write(300).read(200).write(100);  // 5-7: after it
        try (Cluster c = new Cluster(2, i -> app.app())) {
            Started started = startOn(c, app);
            ClientSession client = started.client();
            OutputStream up = started.up();
            InputStream down = started.down();

            // the destination, by hand: S2 as far as S1 can tell
            byte[] id = ClientInternals.id(client);
            Socket control = HandPlayed.openControl(c.mappings().get(c.address(0)), c.address(1));
            try {
                HandPlayed.send(control, WireTestKit.stateRequest(7,
                        ClientInternals.request(client, 1, c.address(0), c.address(1), 1000, 1 << 20)));
                Message.StateReply reply = HandPlayed.expect(control, Message.StateReply.class, "the answer to STATE_REQUEST");
                assertEquals(7, reply.key(), "the reply names the request");
                assertArrayEquals(id, reply.state().sessionId, "the reply carries the requested session");
                assertEquals(1000, reply.state().upSnap, "the snapshot was taken after the application read 1000 bytes");
                assertEquals(1000, reply.state().downSnap, "and wrote 1000");

                // frozen: the application's write returns but nothing is sent; its read waits; the client's bytes wait
                app.runTo(4);
                up.write(Script.pattern(Script.UP, 1000, 500));
                app.allow(5);
                InputStream shortRead = ClientInternals.input(client, 500);
                assertThrows(SocketTimeoutException.class, () -> shortRead.read(new byte[1]),
                        "nothing reaches the client while the session is frozen at S1");
                assertEquals(4, app.completed.get(), "the application's read waits while the session is frozen");
                assertTrue(c.events.isEmpty(), "no outcome while the transfer is open: " + c.events);

                if (closeControl) {
                    control.close();
                }
                // it resumes: the write made while frozen arrives, the read made while frozen gets the client's bytes
                Script.expectDown(down, 1000, 700);
                app.runTo(5);
                assertTrue(Waits.until(() -> !c.events.isEmpty(), Duration.ofSeconds(10)), "S1 reports the outcome");
                List<MigrationEvent> events = c.events;
                assertEquals(1, events.size(), "one outcome: " + events);
                MigrationEvent e = events.get(0);
                assertEquals(MigrationEvent.Role.ORIGIN, e.role(), e.toString());
                assertEquals(c.address(0), e.from(), e.toString());
                assertEquals(c.address(1), e.to(), e.toString());
                MigrationException failure = e.failure();
                assertNotNull(failure, "the migration did not commit: " + e);
                assertTrue(failure.sessionAlive(), "the session goes on at S1: " + failure);
                String why = closeControl ? "control connection to the destination lost"
                        : ":" + c.address(1).getPort() + " within " + CHILD_FREEZE_MILLIS + " ms";
                assertTrue(failure.getMessage().contains(why), "expected the cause '" + why + "', reported: "
                        + failure.getMessage());
                assertTrue(failure.getMessage().contains(client.sessionId().substring(0, 8)), "names the session: "
                        + failure.getMessage());

                if (!closeControl) {
                    // a commit that comes after the deadline is ignored: the session stays here
                    HandPlayed.send(control, new Message.StateAck(7));
                    // S1 reads its control connection in order: once it answers the next request it has seen the ACK
                    HandPlayed.send(control, WireTestKit.forgedStateRequest(8, id, 1700, 2, c.address(1)));
                    Message.StateReject reject = HandPlayed.expect(control, Message.StateReject.class,
                            "the answer to a request with a wrong proof");
                    assertEquals(8, reject.key());
                    assertEquals(MigrationException.Reason.NOT_AUTHORIZED, reject.reason(), reject.message());
                }
                up.write(Script.pattern(Script.UP, 1500, 200));
                app.runTo(8);
                Script.expectDown(down, 1700, 300);
                Script.expectDown(down, 2000, 100);
                assertEquals(1, c.events.size(), "no further outcome: " + c.events.stream().map(Object::toString)
                        .collect(Collectors.joining("; ")));
                assertEquals(c.address(0), client.server(), "the client is still on S1");
            } finally {
                control.close();
            }
            client.close();
            c.assertNoAppFailure();
        }
    }
}
