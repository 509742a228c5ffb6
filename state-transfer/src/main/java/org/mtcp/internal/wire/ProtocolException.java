package org.mtcp.internal.wire;

import java.io.IOException;

/** A peer broke the MTCP wire protocol; the message says how and on which connection. */
public class ProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    /** @param message what was wrong */
    public ProtocolException(String message) {
        super(message);
    }
}
