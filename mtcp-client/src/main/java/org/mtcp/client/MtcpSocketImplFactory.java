package org.mtcp.client;

import java.net.InetSocketAddress;
import java.net.SocketImpl;
import java.net.SocketImplFactory;
import java.util.Objects;
import java.util.function.Predicate;

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

    /** Every destination speaks MTCP. */
    public MtcpSocketImplFactory() {
        this(a -> true);
    }

    /** @param speaksMtcp which destinations speak MTCP; the others get plain TCP */
    public MtcpSocketImplFactory(Predicate<InetSocketAddress> speaksMtcp) {
        this.speaksMtcp = Objects.requireNonNull(speaksMtcp, "speaksMtcp");
    }

    @Override
    public SocketImpl createSocketImpl() {
        return new ClientSocketImpl(speaksMtcp);
    }
}
