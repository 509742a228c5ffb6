package org.mtcp.samples.stream;

import org.mtcp.api.ConnectionMigratedException;
import org.mtcp.api.MtcpOptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.locks.LockSupport;

/**
 * One copy of the stream application serving one session on one server, the migration-enabled
 * server of thesis figure 6.1 (B): import the state; a new session reads its request and exports the
 * first snapshot, a migrated one resumes at the chunk its snapshot names; then write chunk after chunk,
 * exporting a snapshot after each. When the session migrates away, I/O throws
 * {@link ConnectionMigratedException} (the thesis's {@code EMIGRATED}) and this copy ends quietly.
 */
final class StreamSession implements Runnable {
    private final Socket socket;
    private final StreamServer server;

    StreamSession(Socket socket, StreamServer server) {
        this.socket = socket;
        this.server = server;
    }

    @Override
    public void run() {
        try (Socket s = socket) {
            serve(s);
        } catch (ConnectionMigratedException e) {
            server.sessionEnded(socket, StreamServer.Ending.MIGRATED_AWAY, null);
        } catch (IOException e) {
            if (e.getCause() instanceof ConnectionMigratedException) {
                server.sessionEnded(socket, StreamServer.Ending.MIGRATED_AWAY, null);
            } else {
                server.sessionEnded(socket, StreamServer.Ending.FAILED, e);
            }
        } catch (RuntimeException e) {
            server.sessionEnded(socket, StreamServer.Ending.FAILED, e);
        }
    }

    private void serve(Socket s) throws IOException {
        // bounds every wait for the client: its request, and its close at the end
        s.setSoTimeout(server.idleTimeoutMillis());
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        int stateBytes = server.stateBytes();

        byte[] imported = s.getOption(MtcpOptions.APP_STATE);
        StreamState state;
        if (imported == null || imported.length == 0) {
            // new session: the request is read exactly, then the first snapshot says it was consumed
            state = StreamState.start(StreamRequest.read(in));
            s.setOption(MtcpOptions.APP_STATE, state.encode(stateBytes));
            server.sessionStarted(false);
        } else {
            // migrated session: the request was consumed on an earlier server; resume where it stopped
            state = StreamState.decode(imported);
            server.sessionStarted(true);
        }

        ServerPacing pacing = server.pacing();
        byte[] chunk = new byte[state.request().chunkBytes()];
        long servedHere = 0;
        long nextWrite = System.nanoTime();
        while (!state.done()) {
            nextWrite += pacing.delayNanos(servedHere);
            pauseUntil(nextWrite);
            int length = state.nextChunkBytes();
            StreamContent.fill(chunk, 0, length, state.offset());
            out.write(chunk, 0, length);
            out.flush();
            servedHere += length;
            state = state.advance();
            // the snapshot matches what has been written: the next copy must not resend this chunk
            s.setOption(MtcpOptions.APP_STATE, state.encode(stateBytes));
            if (nextWrite < System.nanoTime()) {
                // a blocked write is the network's delay, not the server's: do not catch up in a burst
                nextWrite = System.nanoTime();
            }
        }
        // All written. The client ends the session by closing once it has every byte; waiting for
        // that keeps this copy (and so the session) alive until the client has it all.
        byte[] sink = new byte[64];
        while (in.read(sink) >= 0) {
            // the protocol has nothing more from the client; ignore anything it sends
        }
        server.sessionEnded(socket, StreamServer.Ending.COMPLETED, null);
    }

    private static void pauseUntil(long deadline) {
        long wait;
        while ((wait = deadline - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
        }
    }
}
