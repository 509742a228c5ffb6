package org.mtcp.server;

import org.mtcp.internal.wire.Wire;
import org.mtcp.server.internal.Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Applies a {@link Membership}'s member list to a server: control mappings and advertised alternates. */
final class MembershipUpdate {
    private static final Logger log = LoggerFactory.getLogger(MembershipUpdate.class);

    private MembershipUpdate() {
    }

    static void apply(Server server, List<Member> members) {
        Map<InetSocketAddress, SocketAddress> map = new LinkedHashMap<>();
        for (Member m : members) {
            map.put(m.service(), m.control());
        }
        InetSocketAddress self = server.identity();
        SocketAddress own = self == null ? null : server.controlMappings().get(self);
        if (self != null && own != null && !map.containsKey(self) && !sharesPort(map, self)) {
            map.put(self, own);
        }
        try {
            if (!map.isEmpty()) {
                server.setControlMappings(map);
            }
        } catch (IOException | RuntimeException e) {
            // the alternates stay too: never advertise a server this one would not take as a peer
            log.warn("server {}: membership update refused, the previous control mappings and alternates stay: {}", self,
                    e.getMessage());
            return;
        }
        InetSocketAddress me = server.identity();
        List<InetSocketAddress> others = new ArrayList<>();
        for (Member m : members) {
            if (!m.service().equals(me) && others.size() < Wire.MAX_ALTERNATES && !others.contains(m.service())) {
                others.add(m.service());
            }
        }
        try {
            server.setAlternates(others);
        } catch (RuntimeException e) {
            log.warn("server {}: membership update refused, the previous alternates stay: {}", me, e.getMessage());
        }
        log.debug("server {}: members {}, alternates {}", me, map.keySet(), others);
    }

    /** @return whether the list names this server under another address of the same port (a wildcard bind) */
    private static boolean sharesPort(Map<InetSocketAddress, SocketAddress> map, InetSocketAddress self) {
        if (!self.getAddress().isAnyLocalAddress()) {
            return false;
        }
        for (InetSocketAddress k : map.keySet()) {
            if (k.getPort() == self.getPort()) {
                return true;
            }
        }
        return false;
    }
}
