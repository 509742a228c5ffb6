package org.mtcp.server;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Objects;

/**
 * One cooperating server as a {@link Membership} reports it.
 *
 * @param service the address clients connect to (the key of {@link org.mtcp.api.MtcpOptions#CONTROL_MAPPINGS})
 * @param control where its control endpoint listens (the value)
 */
public record Member(InetSocketAddress service, SocketAddress control) {
    /** Checks both addresses. */
    public Member {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(control, "control");
        if (service.isUnresolved()) {
            throw new IllegalArgumentException("unresolved service address " + service);
        }
    }
}
