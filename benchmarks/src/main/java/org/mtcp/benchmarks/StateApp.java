package org.mtcp.benchmarks;

import org.mtcp.api.MtcpOptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/**
 * The server application of the migration benchmarks (thesis chapter 5 microbenchmark): a new
 * connection exports an application state of {@code stateBytes} bytes; a migrated one imports it
 * (checking its size and ends). Either then echoes single bytes, exporting the same state again
 * after every echo, so the state a migration carries is exactly {@code stateBytes} long and the
 * read log is empty.
 */
public final class StateApp implements Acceptor.App {
    private final int stateBytes;

    /** @param stateBytes size of the exported application state */
    public StateApp(int stateBytes) {
        this.stateBytes = stateBytes;
    }

    /**
     * @param size state size
     * @return a recognisable state: byte i is {@code (byte) (i * 31 + 7)}
     */
    public static byte[] state(int size) {
        byte[] st = new byte[size];
        for (int i = 0; i < size; i++) {
            st[i] = (byte) (i * 31 + 7);
        }
        return st;
    }

    @Override
    public void serve(Socket s) throws IOException {
        byte[] st;
        if (Boolean.TRUE.equals(s.getOption(MtcpOptions.MIGRATED))) {
            st = s.getOption(MtcpOptions.APP_STATE);
            if (st.length != stateBytes
                    || (stateBytes > 0 && (st[0] != (byte) 7 || st[stateBytes - 1] != (byte) ((stateBytes - 1) * 31 + 7)))) {
                throw new IOException("imported a state of " + st.length + " bytes that is not the exported one ("
                        + stateBytes + " bytes)");
            }
        } else {
            st = state(stateBytes);
            s.setOption(MtcpOptions.APP_STATE, st);
        }
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            out.write(b);
            out.flush();
            s.setOption(MtcpOptions.APP_STATE, st);
        }
    }
}
