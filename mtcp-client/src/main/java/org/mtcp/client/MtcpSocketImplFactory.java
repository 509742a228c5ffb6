package org.mtcp.client;

import java.net.InetSocketAddress;
import java.net.SocketImpl;
import java.net.SocketImplFactory;
import java.util.function.Predicate;

/**
 * Makes unmodified {@code java.net.Socket} code migratory (STUB).
 */
public class MtcpSocketImplFactory implements SocketImplFactory {
    private final Predicate<InetSocketAddress> speaksMtcp;

    /** Every destination speaks MTCP. */
    public MtcpSocketImplFactory() {
        this(a -> true);
    }

    /** @param speaksMtcp which destinations speak MTCP; the others get plain TCP */
    public MtcpSocketImplFactory(Predicate<InetSocketAddress> speaksMtcp) {
        this.speaksMtcp = speaksMtcp;
    }

    @Override
    public SocketImpl createSocketImpl() {
        throw new UnsupportedOperationException("stub " + speaksMtcp);
    }
}
