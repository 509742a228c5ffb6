package org.mtcp.internal.session;


import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import java.util.function.IntSupplier;

/** The input stream of a session (either end); it keeps working across migrations. */
public final class SessionInputStream extends InputStream {
    private final SessionCore session;
    /** The read timeout in milliseconds, read at every call; {@code null}: the session's {@link SessionCore#readTimeoutMillis}. */
    private final IntSupplier timeout;

    /** @param session the session @param timeout the read timeout in milliseconds, read at every call */
    public SessionInputStream(SessionCore session, IntSupplier timeout) {
        this.session = session;
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    /** @param session the session, which says its read timeout ({@link SessionCore#readTimeoutMillis}) */
    public SessionInputStream(SessionCore session) {
        this.session = session;
        this.timeout = null;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        return session.read(b, off, len, timeout == null ? session.readTimeoutMillis() : timeout.getAsInt());
    }

    @Override
    public int available() throws IOException {
        return session.available();
    }

    @Override
    public void close() {
        session.close();
    }
}
