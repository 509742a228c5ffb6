package org.mtcp.server.internal;

import java.util.Arrays;

/** A session id as a map key (a server's live sessions). */
final class SessionKey {
    private final byte[] id;
    private final int hash;

    SessionKey(byte[] id) {
        this.id = id;
        this.hash = Arrays.hashCode(id);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SessionKey && Arrays.equals(id, ((SessionKey) o).id);
    }

    @Override
    public int hashCode() {
        return hash;
    }
}
