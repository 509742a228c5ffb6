package org.mtcp.zookeeper;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceType;
import org.apache.curator.x.discovery.details.ServiceCacheListener;
import org.apache.zookeeper.common.PathUtils;
import org.mtcp.server.Member;
import org.mtcp.server.Membership;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A {@link Membership} kept in ZooKeeper with Apache Curator's service discovery: every server of a
 * cluster registers itself as an ephemeral instance of one service, and follows the instances of that
 * service through a watch-based {@link ServiceCache}. A server that closes, crashes or loses its
 * ZooKeeper session disappears from every other server's member list; one that starts appears in it.
 *
 * <pre>{@code
 * MtcpServerSocket server = new MtcpServerSocket(9000, 50, host);
 * server.setMembership(ZooKeeperMembership.builder("zk1:2181,zk2:2181", "cluster-a")
 *         .register(new InetSocketAddress(host, 9000), new InetSocketAddress(host, 9100))
 *         .build());
 * }</pre>
 *
 * <p>Znodes: {@code <basePath>/<serviceName>/<instance id>}, the id being this server's service address
 * ({@code 127.0.0.1:9000}), the data a JSON service instance whose {@code address} and {@code port} are the
 * service address and whose payload is {@code {"control": "tcp:host:port"}} or
 * {@code {"control": "unix:/path"}}.
 *
 * <p>The listener gets the whole member list (sorted by service address) before {@link #watch} returns, and
 * again on one thread of this object whenever it changes, never twice in a row the same, never
 * concurrently. When the ZooKeeper connection is lost the last list stays in force (logged); on reconnection
 * the cache resynchronises, this server's registration is restored (also after a session expiry) and changes
 * flow again. Instances whose payload cannot be read are left out, with a warning.
 */
public final class ZooKeeperMembership implements Membership {
    /** The default base path. */
    public static final String DEFAULT_BASE_PATH = "/mtcp";
    /** The default deadline of {@link #watch} and {@link #close}. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(15);

    private static final Logger log = LoggerFactory.getLogger(ZooKeeperMembership.class);
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final CuratorFramework givenClient;
    private final String connectString;
    private final String basePath;
    private final String serviceName;
    private final InetSocketAddress selfService;
    private final SocketAddress selfControl;
    private final Duration timeout;
    private final Duration sessionTimeout;

    private final Object lock = new Object();
    /** Guarded by lock. */
    private boolean watching;
    private volatile boolean closed;
    private volatile ExecutorService executor;
    private volatile Thread executorThread;
    /** Set on the executor thread; also closed from close() when unregistering runs out of time. */
    private volatile CuratorFramework client;
    // set and used on the executor thread
    private ServiceDiscovery<String> discovery;
    private ServiceCache<String> cache;
    private Consumer<List<Member>> listener;
    /** The last list delivered; written on the executor thread. */
    private volatile List<Member> last;

    private ZooKeeperMembership(Builder b) {
        this.givenClient = b.client;
        this.connectString = b.connectString;
        this.basePath = b.basePath;
        this.serviceName = b.serviceName;
        this.selfService = b.service;
        this.selfControl = b.control;
        this.timeout = b.timeout;
        this.sessionTimeout = b.sessionTimeout;
    }

    /**
     * @param client      a Curator client the caller has started (and closes after this membership)
     * @param serviceName the cluster: every server of it uses the same name
     * @return a builder
     */
    public static Builder builder(CuratorFramework client, String serviceName) {
        return new Builder(Objects.requireNonNull(client, "client"), null, serviceName);
    }

    /**
     * @param connectString the ZooKeeper ensemble, e.g. {@code zk1:2181,zk2:2181}: this membership opens its own
     *                      Curator client at {@link #watch} and closes it at {@link #close}
     * @param serviceName   the cluster: every server of it uses the same name
     * @return a builder
     */
    public static Builder builder(String connectString, String serviceName) {
        return new Builder(null, Objects.requireNonNull(connectString, "connectString"), serviceName);
    }

    /** Settings of a {@link ZooKeeperMembership}. */
    public static final class Builder {
        private final CuratorFramework client;
        private final String connectString;
        private final String serviceName;
        private String basePath = DEFAULT_BASE_PATH;
        private InetSocketAddress service;
        private SocketAddress control;
        private Duration timeout = DEFAULT_TIMEOUT;
        private Duration sessionTimeout = Duration.ofSeconds(30);

        private Builder(CuratorFramework client, String connectString, String serviceName) {
            this.client = client;
            this.connectString = connectString;
            Objects.requireNonNull(serviceName, "serviceName");
            if (serviceName.isEmpty() || serviceName.contains("/")) {
                throw new IllegalArgumentException("a service name is one znode name, not '" + serviceName + "'");
            }
            this.serviceName = serviceName;
        }

        /**
         * @param basePath the znode under which the services live, {@value #DEFAULT_BASE_PATH} by default
         * @return this
         */
        public Builder basePath(String basePath) {
            PathUtils.validatePath(Objects.requireNonNull(basePath, "basePath"));
            this.basePath = basePath;
            return this;
        }

        /**
         * Announces this server: an ephemeral instance from {@link #watch} until {@link #close} (or until its
         * ZooKeeper session ends). Without it the membership only follows the others.
         *
         * @param service the address clients connect to (resolved, not a wildcard)
         * @param control where this server's control endpoint listens: TCP ({@link InetSocketAddress}) or
         *                Unix-domain ({@link java.net.UnixDomainSocketAddress})
         * @return this
         */
        public Builder register(InetSocketAddress service, SocketAddress control) {
            Member m = new Member(service, control); // checks both
            if (service.getAddress().isAnyLocalAddress()) {
                throw new IllegalArgumentException("register the address clients connect to, not the wildcard " + service);
            }
            MemberSerializer.encode(control); // checks its type
            this.service = m.service();
            this.control = m.control();
            return this;
        }

        /**
         * @param timeout the deadline of {@link #watch} (connecting, registering, the first read) and of
         *                {@link #close} (unregistering), {@link #DEFAULT_TIMEOUT} by default
         * @return this
         */
        public Builder timeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive: " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * @param sessionTimeout the ZooKeeper session timeout of the client this membership opens (connect-string
         *                       builders only; the ensemble bounds it): how long a crashed server stays
         *                       listed, 30 s by default
         * @return this
         */
        public Builder sessionTimeout(Duration sessionTimeout) {
            if (sessionTimeout.isNegative() || sessionTimeout.isZero()) {
                throw new IllegalArgumentException("sessionTimeout must be positive: " + sessionTimeout);
            }
            this.sessionTimeout = sessionTimeout;
            return this;
        }

        /** @return the membership; nothing is contacted before {@link ZooKeeperMembership#watch} */
        public ZooKeeperMembership build() {
            return new ZooKeeperMembership(this);
        }
    }

    /**
     * Connects (a client of its own, or waits for the given one), registers this server if asked,
     * starts the cache and hands the first member list to {@code listener} before returning.
     *
     * @throws IOException when ZooKeeper cannot be reached, or registering or the first read fail, within
     *                     the timeout (nothing is left registered or running then)
     */
    @Override
    public void watch(Consumer<List<Member>> listener) throws IOException {
        Objects.requireNonNull(listener, "listener");
        synchronized (lock) {
            if (closed) {
                throw new IOException("membership " + this + " is closed");
            }
            if (watching) {
                throw new IllegalStateException("membership " + this + " is already watching");
            }
            watching = true;
            ExecutorService ex = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "mtcp-zookeeper-" + serviceName + "-" + THREADS.incrementAndGet());
                t.setDaemon(true);
                executorThread = t;
                return t;
            });
            executor = ex;
        }
        this.listener = listener;
        long deadline = System.nanoTime() + timeout.toNanos();
        Future<?> start = executor.submit(() -> {
            start(deadline);
            return null;
        });
        try {
            // a little beyond the deadline, so that the step that ran out of time usually says which it was
            start.get(timeout.toNanos() + TimeUnit.MILLISECONDS.toNanos(500), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            start.cancel(true);
            close();
            throw new IOException("ZooKeeper " + where() + " not reached, or " + basePath + "/" + serviceName
                    + " not registered and read, within " + timeout.toMillis() + " ms", e);
        } catch (ExecutionException e) {
            close();
            Throwable c = e.getCause();
            if (c instanceof IOException) {
                throw (IOException) c;
            }
            throw new IOException("cannot watch " + basePath + "/" + serviceName + " in ZooKeeper " + where()
                    + ": " + c, c);
        } catch (InterruptedException e) {
            start.cancel(true);
            close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting to watch ZooKeeper " + where(), e);
        }
    }

    /** On the executor thread. */
    private void start(long deadline) throws Exception {
        CuratorFramework c = givenClient;
        if (c == null) {
            c = CuratorFrameworkFactory.builder()
                    .connectString(connectString)
                    .sessionTimeoutMs(Math.toIntExact(sessionTimeout.toMillis()))
                    .connectionTimeoutMs(Math.toIntExact(Math.min(timeout.toMillis(), 15_000)))
                    .retryPolicy(new ExponentialBackoffRetry(200, 3, 2_000))
                    .build();
            client = c;
            c.start();
        } else if (c.getState() != CuratorFrameworkState.STARTED) {
            throw new IOException("start the CuratorFramework before watching (it is " + c.getState() + ")");
        }
        client = c;
        if (!c.blockUntilConnected(Math.toIntExact(Math.max(1, remainingMillis(deadline))), TimeUnit.MILLISECONDS)) {
            throw new IOException("ZooKeeper " + where() + " not reached within " + timeout.toMillis() + " ms");
        }
        discovery = ServiceDiscoveryBuilder.builder(String.class)
                .client(c)
                .basePath(basePath)
                .serializer(new MemberSerializer())
                .watchInstances(false)
                .build();
        discovery.start();
        if (selfService != null) {
            // registered here rather than through thisInstance, so that a refusal fails watch() (Curator's
            // start logs it and goes on); re-registered by Curator on every reconnection either way
            discovery.registerService(selfInstance());
        }
        cache = discovery.serviceCacheBuilder().name(serviceName).build();
        cache.addListener(new ServiceCacheListener() {
            @Override
            public void cacheChanged() {
                refresh();
            }

            @Override
            public void stateChanged(CuratorFramework cl, ConnectionState state) {
                connectionChanged(state);
            }
        }, this::deliver);
        CountDownLatch loaded = cache.startImmediate();
        if (!loaded.await(Math.max(1, remainingMillis(deadline)), TimeUnit.MILLISECONDS)) {
            throw new IOException("the instances under " + basePath + "/" + serviceName + " were not read within "
                    + timeout.toMillis() + " ms");
        }
        refresh();
    }

    /** Runs Curator's notifications on this membership's thread; drops those that come after {@link #close}. */
    private void deliver(Runnable r) {
        try {
            executor.execute(r);
        } catch (RejectedExecutionException e) {
            log.debug("membership {}: closed, a notification dropped", this);
        }
    }

    private ServiceInstance<String> selfInstance() {
        String id = idOf(selfService);
        return new ServiceInstance<>(serviceName, id, selfService.getAddress().getHostAddress(), selfService.getPort(),
                null, MemberSerializer.encode(selfControl), System.currentTimeMillis(), ServiceType.DYNAMIC, null, true);
    }

    /** @return the instance id of a service address: {@code 127.0.0.1:9000}, {@code [::1]:9000} */
    static String idOf(InetSocketAddress service) {
        String h = service.getAddress().getHostAddress();
        return (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + service.getPort();
    }

    private static long remainingMillis(long deadline) {
        return TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    }

    private void connectionChanged(ConnectionState state) {
        if (closed) {
            return;
        }
        switch (state) {
            case SUSPENDED:
            case LOST:
                log.warn("membership {}: ZooKeeper connection {} ({}); the last member list ({} members) stays in force",
                        this, state == ConnectionState.LOST ? "lost" : "suspended", where(), sizeOfLast());
                break;
            case RECONNECTED:
                log.warn("membership {}: reconnected to ZooKeeper {}; following the member list again", this, where());
                refresh();
                break;
            default:
                break;
        }
    }

    private int sizeOfLast() {
        List<Member> l = last;
        return l == null ? 0 : l.size();
    }

    /** On the executor thread: reads the cache and hands a changed list to the listener. */
    private void refresh() {
        if (closed || cache == null) {
            return;
        }
        List<Member> members = members(cache.getInstances());
        if (members.equals(last)) {
            return;
        }
        last = members;
        try {
            listener.accept(members);
        } catch (RuntimeException e) {
            log.warn("membership {}: the listener failed on {}", this, members, e);
        }
    }

    /** @return the members of these instances, one per service address (the newest registration), sorted */
    private List<Member> members(List<ServiceInstance<String>> instances) {
        Map<InetSocketAddress, ServiceInstance<String>> newest = new LinkedHashMap<>();
        Map<InetSocketAddress, Member> byService = new LinkedHashMap<>();
        for (ServiceInstance<String> i : instances) {
            Member m;
            try {
                m = member(i);
            } catch (IllegalArgumentException | UnknownHostException e) {
                log.warn("membership {}: instance {} left out: {}", this, i.getId(), e.getMessage());
                continue;
            }
            ServiceInstance<String> other = newest.get(m.service());
            if (other == null || other.getRegistrationTimeUTC() < i.getRegistrationTimeUTC()) {
                newest.put(m.service(), i);
                byService.put(m.service(), m);
            }
        }
        List<Member> list = new ArrayList<>(byService.values());
        list.sort(Comparator.comparing((Member m) -> m.service().getAddress().getHostAddress())
                .thenComparingInt(m -> m.service().getPort()));
        return List.copyOf(list);
    }

    private static Member member(ServiceInstance<String> i) throws UnknownHostException {
        if (i.getAddress() == null || i.getPort() == null) {
            throw new IllegalArgumentException("no address or port");
        }
        if (i.getPayload() == null) {
            throw new IllegalArgumentException("no control address in its payload");
        }
        if (!i.isEnabled()) {
            throw new IllegalArgumentException("disabled");
        }
        InetSocketAddress service = new InetSocketAddress(InetAddress.getByName(i.getAddress()), i.getPort());
        return new Member(service, MemberSerializer.decode(i.getPayload()));
    }

    /** @return the last member list handed to the listener, or {@code null} before the first */
    public List<Member> members() {
        return last;
    }

    /**
     * Unregisters this server (within the timeout; otherwise its ephemeral instance goes when the session
     * ends) and stops the cache, and closes the client if this membership opened it. No call of the
     * listener starts after this returns.
     */
    @Override
    public void close() throws IOException {
        ExecutorService ex;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            ex = executor;
        }
        if (ex == null) {
            return; // never watched: nothing was contacted
        }
        if (Thread.currentThread() == executorThread) {
            tearDown(); // from the listener itself
            ex.shutdown();
            return;
        }
        Future<?> down;
        try {
            down = ex.submit(this::tearDown);
        } catch (RejectedExecutionException e) {
            return;
        }
        try {
            // tearDown ran after any listener call in progress (one thread) and none starts once closed is set
            down.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            log.warn("membership {}: not unregistered from ZooKeeper {} within {} ms; its instance goes when the"
                    + " session ends", this, where(), timeout.toMillis());
            ex.shutdownNow();
            closeOwnClient();
        } catch (ExecutionException e) {
            log.warn("membership {}: closing failed", this, e.getCause());
        } catch (InterruptedException e) {
            ex.shutdownNow();
            closeOwnClient();
            Thread.currentThread().interrupt();
        } finally {
            ex.shutdown(); // after tearDown: Curator's last notifications are dropped quietly (deliver)
        }
    }

    /** On the executor thread. */
    private void tearDown() {
        try {
            if (cache != null) {
                cache.close();
            }
        } catch (IOException | RuntimeException e) {
            log.debug("membership {}: closing the cache: {}", this, e.toString());
        }
        cache = null;
        try {
            if (discovery != null) {
                discovery.close(); // deletes this server's instance
            }
        } catch (IOException | RuntimeException e) {
            log.warn("membership {}: could not unregister {} from ZooKeeper {}: {}", this, selfService, where(), e.toString());
        }
        discovery = null;
        closeOwnClient();
    }

    private void closeOwnClient() {
        CuratorFramework c = client;
        if (givenClient == null && c != null) {
            c.close();
        }
    }

    private String where() {
        return givenClient != null ? givenClient.getZookeeperClient().getCurrentConnectionString() : connectString;
    }

    @Override
    public String toString() {
        return basePath + "/" + serviceName + (selfService == null ? "" : " as " + idOf(selfService));
    }
}
