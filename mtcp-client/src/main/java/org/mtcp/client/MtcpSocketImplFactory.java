package org.mtcp.client;

import org.mtcp.api.MigrationStatistics;
import org.mtcp.internal.observe.MigrationRecorder;

import java.net.InetSocketAddress;
import java.net.SocketImpl;
import java.net.SocketImplFactory;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Makes unmodified {@code java.net.Socket} code migratory:
 * {@code Socket.setSocketImplFactory(new MtcpSocketImplFactory())} once per JVM, and every
 * {@code new Socket(...)} speaks MTCP. With a predicate, only the destinations it accepts speak MTCP;
 * the others get plain TCP (with the global factory installed, every socket of the JVM comes here:
 * JDBC drivers, JMX, HTTP clients). Server sockets and the sockets they accept are not affected.
 * NIO channels ({@code SocketChannel}, {@code java.net.http}, Netty) never pass through a
 * {@code SocketImplFactory}.
 */
public class MtcpSocketImplFactory implements SocketImplFactory {
    private final Predicate<InetSocketAddress> speaksMtcp;
    /** Makes each socket's migration policy, or {@code null} for none. */
    private final Supplier<? extends MigrationPolicy> policies;
    /** Counts the migrations and duplicates of every socket made here. */
    private final MigrationRecorder recorder = new MigrationRecorder(List.of());
    /** The sockets made here that are still reachable, for their live sessions' duplicates; guarded by itself. */
    private final Set<ClientSocketImpl> made = Collections.newSetFromMap(new WeakHashMap<>());

    /** Every destination speaks MTCP. */
    public MtcpSocketImplFactory() {
        this(a -> true);
    }

    /** @param speaksMtcp which destinations speak MTCP; the others get plain TCP */
    public MtcpSocketImplFactory(Predicate<InetSocketAddress> speaksMtcp) {
        this(speaksMtcp, null);
    }

    /**
     * Sockets that also follow a migration policy, so that unmodified {@code java.net.Socket} code leaves a
     * slow server by itself, e.g. {@code new MtcpSocketImplFactory(a -> true, SmoothedThroughputPolicy::new)}
     * (thesis 3.2.1(a), the client's smoothed-throughput policy).
     *
     * @param speaksMtcp which destinations speak MTCP; the others get plain TCP (and no policy)
     * @param policies   called once per socket (a policy keeps per-connection state), or {@code null} for none
     */
    public MtcpSocketImplFactory(Predicate<InetSocketAddress> speaksMtcp, Supplier<? extends MigrationPolicy> policies) {
        this.speaksMtcp = Objects.requireNonNull(speaksMtcp, "speaksMtcp");
        this.policies = policies;
    }

    @Override
    public SocketImpl createSocketImpl() {
        ClientSocketImpl impl = new ClientSocketImpl(speaksMtcp, recorder);
        if (policies != null) {
            impl.setPolicy(policies.get());
        }
        synchronized (made) {
            made.add(impl);
        }
        return impl;
    }

    /**
     * Counters of every socket this factory made, as {@link MtcpSocket#statistics()} gives one
     * socket's: for applications whose sockets a library hides (HttpURLConnection, JDBC drivers).
     *
     * @return migrations started, committed and failed, bytes replayed and resent, duplicates dropped
     */
    public MigrationStatistics statistics() {
        long live = 0;
        synchronized (made) {
            for (ClientSocketImpl impl : made) {
                live += impl.liveDuplicates();
            }
        }
        return recorder.snapshot(live);
    }
}
