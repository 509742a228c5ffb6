package org.mtcp.samples.http;

import org.mtcp.api.ConnectionMigratedException;
import org.mtcp.api.MtcpOptions;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.locks.LockSupport;

/**
 * One copy of the web server application serving one connection on one server: the
 * migration-enabled server of thesis figure 6.1 (B), with keep-alive.
 *
 * <p>It imports the state (empty on a new connection) and runs the request/response cycle from
 * wherever that state says the connection is, exporting a new state at every restart point:
 * <ol>
 *   <li>after consuming a request (state: the response planned, nothing written);</li>
 *   <li>after writing the head (state: head written, body offset at the range start); a body of at
 *       most one chunk is written with the head, and the next restart point is the last;</li>
 *   <li>after every body chunk (state: offset advanced by the chunk: the thesis's
 *       {@code state.off += n; set_state}).</li>
 *   <li>after the response is complete (state: awaiting the next request).</li>
 * </ol>
 * Bytes written before an export reach the client through the library's write-buffer
 * synchronization; bytes written after it are written again by the destination's copy, which the
 * response plan in the state makes byte-for-byte identical. When the session migrates away, I/O
 * throws {@link ConnectionMigratedException} (the thesis's {@code EMIGRATED}) and this copy ends.
 */
final class HttpSession implements Runnable {
    private final Socket socket;
    private final HttpFileServer server;

    HttpSession(Socket socket, HttpFileServer server) {
        this.socket = socket;
        this.server = server;
    }

    @Override
    public void run() {
        try (Socket s = socket) {
            serve(s);
            server.sessionEnded(socket, HttpFileServer.Ending.COMPLETED, null);
        } catch (ConnectionMigratedException e) {
            server.sessionEnded(socket, HttpFileServer.Ending.MIGRATED_AWAY, null);
        } catch (SocketTimeoutException e) {
            server.sessionEnded(socket, HttpFileServer.Ending.IDLE, null);
        } catch (IOException e) {
            if (e.getCause() instanceof ConnectionMigratedException) {
                server.sessionEnded(socket, HttpFileServer.Ending.MIGRATED_AWAY, null);
            } else {
                server.sessionEnded(socket, HttpFileServer.Ending.FAILED, e);
            }
        } catch (RuntimeException e) {
            server.sessionEnded(socket, HttpFileServer.Ending.FAILED, e);
        }
    }

    private void serve(Socket s) throws IOException {
        // bounds the wait for the next request on an idle keep-alive connection
        s.setSoTimeout(server.idleTimeoutMillis());
        // a response is written whole, then flushed: with Nagle's algorithm on, its last segment
        // would wait for the ACK of the one before, which a client delays (40 ms on Linux) on a
        // keep-alive connection where nothing else is sent (a migrated connection is a new socket:
        // set again whenever a copy starts)
        s.setTcpNoDelay(true);
        InputStream in = s.getInputStream();   // never wrapped in a buffer: see RequestReader
        OutputStream out = s.getOutputStream();
        HttpState state = HttpState.decode(s.getOption(MtcpOptions.APP_STATE));
        server.sessionStarted(s.getOption(MtcpOptions.MIGRATED), state);

        while (true) {
            switch (state.phase()) {
                case AWAITING_REQUEST -> {
                    ResponsePlan plan;
                    try {
                        HttpRequest request = RequestReader.read(in);
                        if (request == null) {
                            return; // the client closed the connection between requests
                        }
                        plan = server.root().plan(request, server.nowSeconds());
                    } catch (BadRequestException e) {
                        plan = ResponsePlan.error(e.status(), server.nowSeconds(), false, ResponsePlan.Connection.CLOSE);
                    } catch (EOFException e) {
                        return; // the client went away in the middle of a request
                    }
                    state = state.ready(plan);
                    export(s, state, 0);
                }
                case RESPONSE_READY -> {
                    ResponsePlan plan = state.plan();
                    byte[] head = plan.head();
                    if (plan.hasFileBody() && plan.end() - plan.start() <= server.chunkBytes()) {
                        // a body of at most one chunk goes out with the head in one write: one segment
                        // for a small file, and no more bytes after the last export than a chunk
                        byte[] response = withBody(head, plan);
                        out.write(response);
                        out.flush();
                        server.bodyBytesWritten(response.length - head.length);
                        state = state.sending(plan.end());
                        if (!finish(s, state, response.length)) {
                            return;
                        }
                        state = state.completed();
                        continue;
                    }
                    byte[] body = plan.bodyAfterHead();
                    out.write(head);
                    out.write(body);
                    out.flush();
                    if (plan.hasFileBody()) {
                        state = state.sending(plan.start());
                        export(s, state, head.length);
                    } else if (!finish(s, state, head.length + body.length)) {
                        return;
                    } else {
                        state = state.completed();
                    }
                }
                case SENDING_BODY -> {
                    state = sendBody(s, out, state);
                    if (!finish(s, state, 0)) {
                        return;
                    }
                    state = state.completed();
                }
            }
        }
    }

    /** @return the head followed by the whole (small) file body of the plan */
    private byte[] withBody(byte[] head, ResponsePlan plan) throws IOException {
        int bodyLength = (int) (plan.end() - plan.start());
        ByteBuffer response = ByteBuffer.allocate(head.length + bodyLength).put(head);
        try (FileChannel file = server.root().open(plan)) {
            DocumentRoot.readFully(file, response, plan.start());
        }
        return response.array();
    }

    /** Writes the rest of the body chunk by chunk, exporting the offset after each chunk. */
    private HttpState sendBody(Socket s, OutputStream out, HttpState state) throws IOException {
        ResponsePlan plan = state.plan();
        int chunk = server.chunkBytes();
        long rate = server.rateLimit();
        long paceStart = System.nanoTime();
        long paced = 0;
        try (FileChannel file = server.root().open(plan)) {
            ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(chunk, plan.end() - plan.start()));
            long offset = state.offset();
            while (offset < plan.end()) {
                int n = (int) Math.min(buffer.capacity(), plan.end() - offset);
                buffer.clear().limit(n);
                DocumentRoot.readFully(file, buffer, offset);
                out.write(buffer.array(), 0, n);
                out.flush();
                offset += n;
                state = state.sending(offset);
                export(s, state, n);
                server.bodyBytesWritten(n);
                if (rate > 0) {
                    paced += n;
                    pauseUntil(paceStart + (long) (paced * 1e9 / rate));
                }
            }
        }
        return state;
    }

    /**
     * Ends a complete response: exports "awaiting the next request", or closes when the response
     * said so.
     *
     * @return {@code true} when the connection goes on
     */
    private boolean finish(Socket s, HttpState state, long bytesWritten) throws IOException {
        server.responseCompleted();
        if (state.plan().closesConnection()) {
            return false; // closing the socket sends everything written, then the end of the stream
        }
        export(s, state.completed(), bytesWritten);
        return true;
    }

    private static void pauseUntil(long deadline) {
        long wait;
        while ((wait = deadline - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
        }
    }

    /** A restart point: export the state, then let the server's policy decide whether to move. */
    private void export(Socket s, HttpState state, long bytesWritten) throws IOException {
        s.setOption(MtcpOptions.APP_STATE, state.encode());
        server.restartPoint(s, bytesWritten);
    }
}
