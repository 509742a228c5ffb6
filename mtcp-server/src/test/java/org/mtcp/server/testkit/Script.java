package org.mtcp.server.testkit;

import org.mtcp.api.MtcpOptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A deterministic server application driven step by step by a test, so that a migration can be
 * placed exactly between two steps (after a read but before the export, after a write, ...). The
 * application state is the index of the next step; a copy that arrives by migration imports it and
 * runs the steps from there, as far as the test has allowed. Up bytes (client to server) and down
 * bytes are fixed patterns of their offsets, checked on both ends.
 */
public final class Script {
    /** Seed of the client's stream. */
    public static final long UP = 11;
    /** Seed of the server's stream. */
    public static final long DOWN = 23;

    private enum Kind { READ, WRITE, EXPORT, SHUTDOWN_OUTPUT, READ_EOF }

    private static final class Step {
        final Kind kind;
        final int n;

        Step(Kind kind, int n) {
            this.kind = kind;
            this.n = n;
        }

        @Override
        public String toString() {
            return kind + (n > 0 ? "(" + n + ")" : "");
        }
    }

    private final List<Step> steps = new ArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition progress = lock.newCondition();
    /** Steps the application may run (guarded by lock). */
    private int allowed;
    /** Steps completed by the copy that went furthest (guarded by lock). */
    private int completed;
    /** Steps completed by the copy on each server (guarded by lock). */
    private final java.util.Map<Integer, Integer> completedOn = new java.util.HashMap<>();
    /** Server index of the copy that completed the latest step (guarded by lock). */
    private int lastServer = -1;
    /** Application state padding. */
    private int statePadding = 16;

    /** @return this script with a step reading exactly {@code n} bytes */
    public Script read(int n) {
        steps.add(new Step(Kind.READ, n));
        return this;
    }

    /** @return this script with a step writing {@code n} bytes */
    public Script write(int n) {
        steps.add(new Step(Kind.WRITE, n));
        return this;
    }

    /** @return this script with an export of the state (the index of the next step) */
    public Script export() {
        steps.add(new Step(Kind.EXPORT, 0));
        return this;
    }

    /** @return this script with a shutdownOutput */
    public Script shutdownOutput() {
        steps.add(new Step(Kind.SHUTDOWN_OUTPUT, 0));
        return this;
    }

    /** @return this script with a step that expects the end of the client's stream */
    public Script readEof() {
        steps.add(new Step(Kind.READ_EOF, 0));
        return this;
    }

    /** @return this script exporting states of {@code n} bytes */
    public Script statePadding(int n) {
        statePadding = n;
        return this;
    }

    /** Lets the application run steps {@code [0, n)} and waits until they are done. */
    public void runTo(int n) throws InterruptedException {
        runTo(n, -1);
    }

    /**
     * Lets the application run steps {@code [0, n)} and waits until the copy on {@code server} has
     * done them (a copy whose session is moving away may still run a step before it learns so).
     */
    public void runTo(int n, int server) throws InterruptedException {
        lock.lock();
        try {
            allowed = Math.max(allowed, n);
            progress.signalAll();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (completed < n || (server >= 0 && completedOn.getOrDefault(server, 0) < n)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("the application did not complete step " + (n - 1) + " " + steps.get(n - 1)
                            + " within 30 s (completed " + completed + ")");
                }
                progress.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Lets the application run steps {@code [0, n)} without waiting. */
    public void allow(int n) {
        lock.lock();
        try {
            allowed = Math.max(allowed, n);
            progress.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** @return index of the server whose copy completed the latest step */
    public int lastServer() {
        lock.lock();
        try {
            return lastServer;
        } finally {
            lock.unlock();
        }
    }

    /** @return up offset before step {@code i} */
    public long upBefore(int i) {
        long o = 0;
        for (int k = 0; k < i; k++) {
            if (steps.get(k).kind == Kind.READ) {
                o += steps.get(k).n;
            }
        }
        return o;
    }

    /** @return down offset before step {@code i} */
    public long downBefore(int i) {
        long o = 0;
        for (int k = 0; k < i; k++) {
            if (steps.get(k).kind == Kind.WRITE) {
                o += steps.get(k).n;
            }
        }
        return o;
    }

    /** @return the server application */
    public Cluster.App app() {
        return (s, server) -> {
            byte[] st = s.getOption(MtcpOptions.APP_STATE);
            int i = st.length == 0 ? 0 : ByteBuffer.wrap(st).getInt();
            long up = upBefore(i);
            long down = downBefore(i);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            for (; i < steps.size(); i++) {
                awaitAllowed(i);
                Step step = steps.get(i);
                switch (step.kind) {
                    case READ: {
                        byte[] b = new byte[step.n];
                        Apps.readFully(in, b);
                        for (int k = 0; k < b.length; k++) {
                            if (b[k] != Apps.streamByte(UP, up + k)) {
                                throw new AssertionError("server " + server + " read byte " + (up + k) + " = " + b[k]
                                        + ", expected " + Apps.streamByte(UP, up + k));
                            }
                        }
                        up += step.n;
                        break;
                    }
                    case WRITE: {
                        byte[] b = pattern(DOWN, down, step.n);
                        out.write(b);
                        down += step.n;
                        break;
                    }
                    case EXPORT: {
                        byte[] state = new byte[Math.max(4, statePadding)];
                        ByteBuffer.wrap(state).putInt(i + 1);
                        s.setOption(MtcpOptions.APP_STATE, state);
                        break;
                    }
                    case SHUTDOWN_OUTPUT:
                        s.shutdownOutput();
                        break;
                    case READ_EOF: {
                        int r = in.read();
                        if (r != -1) {
                            throw new AssertionError("server " + server + " expected the end of stream at " + up + ", read " + r);
                        }
                        break;
                    }
                    default:
                        throw new IllegalStateException(step.toString());
                }
                completed(i + 1, server);
            }
            awaitForever(s);
        };
    }

    /** Keeps the application's copy alive (and reading nothing) until its session moves or closes. */
    private void awaitForever(Socket s) throws IOException {
        lock.lock();
        try {
            while (!s.isClosed()) {
                progress.await(50, TimeUnit.MILLISECONDS);
                s.getOption(MtcpOptions.APP_STATE); // throws ConnectionMigratedException once it moved
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    private void awaitAllowed(int i) {
        lock.lock();
        try {
            while (allowed <= i) {
                progress.await();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            lock.unlock();
        }
    }

    private void completed(int n, int server) {
        lock.lock();
        try {
            if (n > completed) {
                completed = n;
            }
            completedOn.merge(server, n, Math::max);
            lastServer = server;
            progress.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** @return {@code n} bytes of the stream with this seed from offset {@code from} */
    public static byte[] pattern(long seed, long from, int n) {
        byte[] b = new byte[n];
        for (int k = 0; k < n; k++) {
            b[k] = Apps.streamByte(seed, from + k);
        }
        return b;
    }

    /** Reads exactly the down bytes {@code [from, from + n)} and checks them. */
    public static void expectDown(InputStream in, long from, int n) throws IOException {
        byte[] b = new byte[n];
        Apps.readFully(in, b);
        for (int k = 0; k < n; k++) {
            if (b[k] != Apps.streamByte(DOWN, from + k)) {
                throw new AssertionError("client read byte " + (from + k) + " = " + b[k] + ", expected "
                        + Apps.streamByte(DOWN, from + k));
            }
        }
    }
}
