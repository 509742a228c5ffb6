package org.mtcp.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A {@link Membership} read from DNS SRV records: every record of the service name (e.g.
 * {@code _mtcp._tcp.cluster.test}) is a cooperating server, its target's address and port the
 * service address clients connect to. The control address of each is found by one of two
 * conventions (see {@code docs/operations.md}):
 * <ul>
 * <li>by default, a second SRV name, the service name with {@code -control} after its first label
 * ({@code _mtcp-control._tcp.cluster.test}), whose records have the same targets as the service
 * records and give the control port: what a Kubernetes headless Service with two named ports
 * ({@code mtcp} and {@code mtcp-control}) or two Consul services publish by themselves;</li>
 * <li>or, with {@link Builder#controlPort(int)}, one control port on every member's host, and no
 * second name.</li>
 * </ul>
 * The priority and weight of the records are ignored: every record is a member.
 *
 * <p>{@link #watch} does the first lookup on the calling thread, then one daemon thread
 * ({@value #THREAD_NAME}) looks again every {@linkplain Builder#refreshInterval refresh interval} and
 * calls the listener when the member list changed. A name that does not exist (NXDOMAIN) or has no
 * records is an answer, the empty list (the last server was removed); a lookup that fails (no answer
 * in time, SERVFAIL, REFUSED) is logged with the DNS server and the name, and the last list stays.
 * Record TTLs are not read (the JDK's DNS provider does not expose them): the interval is the
 * refresh period, and the JDK's provider keeps no cache of its own.
 *
 * <pre>{@code
 * server.setMembership(DnsSrvMembership.builder("_mtcp._tcp.cluster.test").build());   // the system's resolver
 * }</pre>
 */
public final class DnsSrvMembership implements Membership {
    /** The name of the thread that refreshes the member list. */
    public static final String THREAD_NAME = "mtcp-dns-membership";

    private static final Logger log = LoggerFactory.getLogger(DnsSrvMembership.class);
    /** The longest {@link #close()} waits for a lookup in progress to end. */
    private static final long CLOSE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final DnsSrvLookup lookup;
    private final long intervalNanos;

    private final Object lock = new Object();
    /** Guarded by lock. */
    private ScheduledExecutorService executor;
    /** The refresh thread, once started. */
    private volatile Thread worker;
    /** Guarded by lock. */
    private Consumer<List<Member>> listener;
    /** The list last given to the listener; guarded by lock. */
    private List<Member> last = List.of();
    /** Guarded by lock. */
    private boolean closed;
    /** Written by one lookup at a time (watch's, then the refresh thread's). */
    private volatile String lastFailure;
    private volatile int consecutiveFailures;
    private volatile List<String> lastProblems = List.of();

    private DnsSrvMembership(Builder b) {
        this.lookup = new DnsSrvLookup(b.serviceName, b.controlName, b.controlPort, b.dnsServers, b.lookupTimeout, b.lookupAttempts);
        this.intervalNanos = b.refreshInterval.toNanos();
    }

    /**
     * @param serviceName the SRV name of the servers' service, e.g. {@code _mtcp._tcp.cluster.test}
     * @return a builder with the defaults: the system's resolver, the control SRV name derived from
     * {@code serviceName}, a refresh every 5 s, lookups of 1 s and 2 attempts
     */
    public static Builder builder(String serviceName) {
        return new Builder(serviceName);
    }

    /**
     * Looks the members up now and gives the list to {@code listener} before returning, then again
     * whenever it changes (from the {@value #THREAD_NAME} thread).
     *
     * @throws IOException when the first lookup fails (no DNS server answered within the lookup
     *                     deadline, or it answered with an error): the message names the servers and
     *                     the name; nothing is left running, and {@code watch} may be called again
     * @throws IllegalStateException when already watching
     */
    @Override
    public void watch(Consumer<List<Member>> listener) throws IOException {
        Objects.requireNonNull(listener, "listener");
        synchronized (lock) {
            if (closed) {
                throw new IOException(this + " is closed");
            }
            if (executor != null || this.listener != null) {
                throw new IllegalStateException(this + " is already watching");
            }
            this.listener = listener; // reserves the watch while the first lookup runs
        }
        List<Member> first;
        try {
            first = lookupAndReport();
        } catch (DnsSrvLookup.Failure e) {
            synchronized (lock) {
                this.listener = null;
            }
            throw new IOException(e.getMessage() + "; the server has no members from DNS yet", e.getCause());
        } catch (RuntimeException e) {
            synchronized (lock) {
                this.listener = null;
            }
            throw e;
        }
        synchronized (lock) {
            if (closed) {
                this.listener = null;
                throw new IOException(this + " was closed during its first lookup");
            }
            try {
                listener.accept(first);
            } catch (RuntimeException | Error e) {
                this.listener = null;
                throw e;
            }
            last = first;
            ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, THREAD_NAME);
                t.setDaemon(true);
                worker = t;
                return t;
            });
            ex.setRemoveOnCancelPolicy(true);
            ex.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            ex.scheduleWithFixedDelay(this::refresh, intervalNanos, intervalNanos, TimeUnit.NANOSECONDS);
            executor = ex;
        }
    }

    /** One refresh on the refresh thread: never throws, so the schedule goes on. */
    private void refresh() {
        try {
            List<Member> now;
            try {
                now = lookupAndReport();
            } catch (DnsSrvLookup.Failure e) {
                return; // logged; the last list stays
            }
            synchronized (lock) {
                if (closed || listener == null || now.equals(last)) {
                    return;
                }
                last = now;
                listener.accept(now);
            }
        } catch (RuntimeException e) {
            log.warn("{}: a refresh failed: {}", this, e.toString(), e);
        }
    }

    /** A lookup, with its failure or recovery and any new problem with the records logged. */
    private List<Member> lookupAndReport() throws DnsSrvLookup.Failure {
        DnsSrvLookup.Result r;
        try {
            r = lookup.lookup();
        } catch (DnsSrvLookup.Failure e) {
            int n = ++consecutiveFailures;
            String previous = lastFailure;
            int kept;
            synchronized (lock) {
                kept = last.size();
            }
            String message = e.getMessage() + "; the last " + kept + " member(s) stay";
            lastFailure = message;
            if (n == 1 || !message.equals(previous)) {
                log.warn("{}", message);
            } else {
                log.debug("{} ({} failures in a row)", message, n);
            }
            throw e;
        }
        int failed = consecutiveFailures;
        if (failed > 0) {
            consecutiveFailures = 0;
            log.warn("{}: lookups answer again after {} failure(s): {} member(s)", this, failed, r.members().size());
        }
        if (!r.problems().equals(lastProblems)) {
            for (String p : r.problems()) {
                if (!lastProblems.contains(p)) {
                    log.warn("{}: {}", this, p);
                }
            }
            lastProblems = r.problems();
        }
        return r.members();
    }

    /** @return the message logged for the last failed lookup, or {@code null} if none failed yet */
    String lastFailure() {
        return lastFailure;
    }

    /** @return how many lookups failed since the last one that succeeded */
    int consecutiveFailures() {
        return consecutiveFailures;
    }

    /** @return the records that named no usable member at the last lookup (e.g. a target without an address) */
    List<String> problems() {
        return lastProblems;
    }

    /**
     * Stops the refresh thread: no call of the listener starts after this returns. Waits at most 5 s
     * for a lookup in progress (its result is dropped); idempotent.
     */
    @Override
    public void close() {
        ScheduledExecutorService ex;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            listener = null;
            ex = executor;
            executor = null;
        }
        if (ex == null) {
            return;
        }
        ex.shutdownNow();
        if (Thread.currentThread() == worker) {
            return; // closed from the listener: the thread ends when this call returns
        }
        try {
            if (!ex.awaitTermination(CLOSE_WAIT_NANOS, TimeUnit.NANOSECONDS)) {
                log.debug("{}: closed while a lookup is still waiting for its answer; the thread ends after it", this);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "DNS membership " + lookup;
    }

    /** How a {@link DnsSrvMembership} looks its members up. */
    public static final class Builder {
        private final String serviceName;
        private String controlName;
        private int controlPort = -1;
        private List<InetSocketAddress> dnsServers = List.of();
        private Duration refreshInterval = Duration.ofSeconds(5);
        private Duration lookupTimeout = Duration.ofSeconds(1);
        private int lookupAttempts = 2;

        private Builder(String serviceName) {
            this.serviceName = DnsSrvLookup.checkName(serviceName, "service name");
            this.controlName = DnsSrvLookup.defaultControlName(this.serviceName);
        }

        /**
         * @param servers the DNS servers to ask, in order (e.g. {@code 127.0.0.1:5353}); none, the
         *                default, means the system's resolvers ({@code /etc/resolv.conf})
         * @return this builder
         */
        public Builder dnsServers(InetSocketAddress... servers) {
            this.dnsServers = List.copyOf(Arrays.asList(servers));
            return this;
        }

        /**
         * Control addresses from a second SRV name whose records have the same targets as the
         * service records (the default: the service name with {@code -control} after its first label,
         * {@code _mtcp._tcp.x} gives {@code _mtcp-control._tcp.x}). Replaces {@link #controlPort(int)}.
         *
         * @param srvName the control SRV name
         * @return this builder
         */
        public Builder controlName(String srvName) {
            this.controlName = DnsSrvLookup.checkName(srvName, "control name");
            this.controlPort = -1;
            return this;
        }

        /**
         * Control addresses without a second name: every member's control endpoint listens on
         * {@code port} at its service address's host. Replaces {@link #controlName(String)}.
         *
         * @param port the control port of every member
         * @return this builder
         */
        public Builder controlPort(int port) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("control port " + port + " is not in 1..65535");
            }
            this.controlPort = port;
            this.controlName = null;
            return this;
        }

        /**
         * @param interval how long after a lookup the next starts (default 5 s); a removed server
         *                 stops being advertised within about this much once DNS no longer has it
         * @return this builder
         */
        public Builder refreshInterval(Duration interval) {
            if (interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException("refresh interval " + interval + " is not positive");
            }
            this.refreshInterval = interval;
            return this;
        }

        /**
         * The deadline of one DNS query, JNDI's: the first attempt waits {@code firstAttempt}, each
         * further one twice as long as the one before, for each DNS server in turn; so a query gives
         * up after {@code firstAttempt * (2^attempts - 1)} per server (3 s with the defaults, 1 s and
         * 2). A lookup is one query for the service name, one for the control name, one per target
         * that is not a literal address.
         *
         * @param firstAttempt how long the first attempt waits for an answer (default 1 s)
         * @param attempts     how many attempts per server (default 2)
         * @return this builder
         */
        public Builder lookupTimeout(Duration firstAttempt, int attempts) {
            if (firstAttempt.toMillis() < 1 || firstAttempt.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("lookup timeout " + firstAttempt + " is not 1 ms to 24 days");
            }
            if (attempts < 1 || attempts > 16) {
                throw new IllegalArgumentException("lookup attempts " + attempts + " is not 1..16");
            }
            this.lookupTimeout = firstAttempt;
            this.lookupAttempts = attempts;
            return this;
        }

        /** @return a membership to give to {@link MtcpServerSocket#setMembership(Membership)} */
        public DnsSrvMembership build() {
            return new DnsSrvMembership(this);
        }
    }
}
