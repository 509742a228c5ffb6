package org.mtcp.server.it;

import org.mtcp.api.MtcpOptions;
import org.mtcp.server.testkit.Apps;
import org.mtcp.server.testkit.Cluster;
import org.mtcp.server.testkit.Script;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A server application that runs fixed steps (read n, write n, export) one at a time as the test
 * allows, like {@link Script}, and shows how many it completed, so that a test can see a step that
 * waits (a read of a frozen session). Up and down bytes are the patterns of {@link Script}; every
 * byte read is checked. One copy only (no migration): the state is the next step's index.
 */
final class StepApp {
    private enum Kind { READ, WRITE, EXPORT }

    private final List<Kind> kinds = new ArrayList<>();
    private final List<Integer> sizes = new ArrayList<>();
    private final Object lock = new Object();
    private int allowed;
    /** Steps completed. */
    final AtomicInteger completed = new AtomicInteger();
    /** How the application's copy ended, when it did. */
    final AtomicReference<Throwable> ended = new AtomicReference<>();

    StepApp read(int n) {
        kinds.add(Kind.READ);
        sizes.add(n);
        return this;
    }

    StepApp write(int n) {
        kinds.add(Kind.WRITE);
        sizes.add(n);
        return this;
    }

    StepApp export() {
        kinds.add(Kind.EXPORT);
        sizes.add(0);
        return this;
    }

    /** Lets steps {@code [0, n)} run. */
    void allow(int n) {
        synchronized (lock) {
            allowed = Math.max(allowed, n);
            lock.notifyAll();
        }
    }

    /** Lets steps {@code [0, n)} run and waits (at most 30 s) until they completed. */
    void runTo(int n) throws InterruptedException {
        allow(n);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (completed.get() < n) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("the application completed " + completed.get() + " steps, expected " + n
                        + " within 30 s" + (ended.get() != null ? "; it ended with " + ended.get() : ""));
            }
            TimeUnit.MILLISECONDS.sleep(2);
        }
    }

    /** @return the up offset before step {@code i} */
    long upBefore(int i) {
        long o = 0;
        for (int k = 0; k < i; k++) {
            o += kinds.get(k) == Kind.READ ? sizes.get(k) : 0;
        }
        return o;
    }

    /** @return the down offset before step {@code i} */
    long downBefore(int i) {
        long o = 0;
        for (int k = 0; k < i; k++) {
            o += kinds.get(k) == Kind.WRITE ? sizes.get(k) : 0;
        }
        return o;
    }

    Cluster.App app() {
        return (s, server) -> {
            try {
                serve(s, server);
            } catch (IOException | RuntimeException | Error e) {
                ended.compareAndSet(null, e);
                throw e;
            }
        };
    }

    private void serve(Socket s, int server) throws IOException {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        for (int i = 0; i < kinds.size(); i++) {
            synchronized (lock) {
                while (allowed <= i) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                }
            }
            int n = sizes.get(i);
            switch (kinds.get(i)) {
                case READ: {
                    long up = upBefore(i);
                    byte[] b = new byte[n];
                    Apps.readFully(in, b);
                    for (int k = 0; k < n; k++) {
                        if (b[k] != Apps.streamByte(Script.UP, up + k)) {
                            throw new AssertionError("server " + server + " read byte " + (up + k) + " = " + b[k] + ", expected "
                                    + Apps.streamByte(Script.UP, up + k));
                        }
                    }
                    break;
                }
                case WRITE:
                    out.write(Script.pattern(Script.DOWN, downBefore(i), n));
                    break;
                default: {
                    byte[] st = new byte[16];
                    ByteBuffer.wrap(st).putInt(i + 1);
                    s.setOption(MtcpOptions.APP_STATE, st);
                    break;
                }
            }
            completed.incrementAndGet();
        }
        // keep the session open (reading nothing) until the client closes it
        in.read();
    }
}
