package org.mtcp.internal.session;


import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/** The output stream of a session (either end); it keeps working across migrations. */
public final class SessionOutputStream extends OutputStream {
    private final SessionCore session;

    /** @param session the session */
    public SessionOutputStream(SessionCore session) {
        this.session = session;
    }

    @Override
    public void write(int b) throws IOException {
        session.write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        session.write(b, off, len);
    }

    @Override
    public void close() {
        session.close();
    }
}
