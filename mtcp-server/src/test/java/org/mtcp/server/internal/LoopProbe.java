package org.mtcp.server.internal;

import org.mtcp.server.testkit.Waits;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reads loop-thread state of a real server from a test: every read runs as a task on the server's
 * own I/O loop (where the fields are written), and waits at most a few seconds for it.
 */
final class LoopProbe {
    private LoopProbe() {
    }

    /** @return what {@code read} returns, run on the server's loop */
    static <T> T onLoop(Server s, Callable<T> read) {
        CompletableFuture<T> f = new CompletableFuture<>();
        s.loop().execute(() -> {
            try {
                f.complete(read.call());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        try {
            return f.get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("the I/O loop of " + s + " did not answer", e);
        }
    }

    static ControlConnection.State state(Server s, ControlConnection c) {
        return onLoop(s, c::state);
    }

    static IncomingTransfer.State state(Server s, IncomingTransfer t) {
        return onLoop(s, t::state);
    }

    /** @return this server's requests waiting for an answer, on every control connection */
    static List<IncomingTransfer> pending(Server s) {
        List<IncomingTransfer> l = new ArrayList<>();
        for (ControlConnection c : s.control().connections()) {
            l.addAll(onLoop(s, c::pendingRequests));
        }
        return l;
    }

    /** @return the peers' requests this server answered with a state and that are still open */
    static List<OutgoingTransfer> served(Server s) {
        List<OutgoingTransfer> l = new ArrayList<>();
        for (ControlConnection c : s.control().connections()) {
            l.addAll(onLoop(s, c::servedTransfers));
        }
        return l;
    }

    /** Waits until exactly one element shows up, and returns it. */
    static <T> T awaitOne(String what, java.util.function.Supplier<List<T>> list) throws InterruptedException {
        AtomicReference<List<T>> last = new AtomicReference<>(List.of());
        boolean ok = Waits.until(() -> {
            last.set(list.get());
            return last.get().size() == 1;
        }, Duration.ofSeconds(15));
        assertTrue(ok, "expected one " + what + ", found " + last.get());
        return last.get().get(0);
    }

    /** Waits until the control endpoint has a connection that is not among {@code before}, and returns it. */
    static ControlConnection awaitNewConnection(Server s, List<ControlConnection> before) throws InterruptedException {
        return awaitOne("new control connection of " + s, () -> {
            List<ControlConnection> now = new ArrayList<>(s.control().connections());
            now.removeAll(before);
            return now;
        });
    }

    /** Waits until the connection is in state {@code expected}; fails with the state it is in. */
    static void awaitState(Server s, ControlConnection c, ControlConnection.State expected, Duration atMost)
            throws InterruptedException {
        boolean ok = Waits.until(() -> state(s, c) == expected, atMost);
        assertTrue(ok, c + ": expected " + expected + ", is " + state(s, c));
    }
}
