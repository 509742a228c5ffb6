package org.mtcp.samples.readme;

// The README's server snippet, compiled and run by ReadmeSnippetsTest: README.md quotes the lines
// between the markers byte for byte (ReadmeSnippetsTest fails when they differ).
// README:server-start
import org.mtcp.api.ConnectionMigratedException;
import org.mtcp.api.MtcpOptions;
import org.mtcp.server.MtcpServerSocket;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A client sends a file name and a newline; the server sends the file, and the session may move.
 * Two on one host: {@code java FileServer files 8080 8081} and {@code java FileServer files 8081 8080}.
 */
public final class FileServer {
    public static void main(String[] args) throws IOException {
        Path root = Path.of(args[0]);                                  // the same files on every server
        int port = Integer.parseInt(args[1]);
        int peerPort = Integer.parseInt(args[2]);
        ExecutorService pool = Executors.newCachedThreadPool();
        InetAddress host = InetAddress.getLoopbackAddress();           // across hosts: this host's address
        InetSocketAddress self = new InetSocketAddress(host, port);
        InetSocketAddress peer = new InetSocketAddress(host, peerPort); // across hosts: the peer's address

        MtcpServerSocket server = new MtcpServerSocket(port, 50, host);
        // across hosts, first: server.setOption(MtcpOptions.CONTROL_TLS, tls), see Security below
        server.setOption(MtcpOptions.CONTROL_MAPPINGS, Map.of(        // every cooperating server, this one included:
                self, new InetSocketAddress(host, port + 1000),        //   service address -> control address
                peer, new InetSocketAddress(host, peerPort + 1000)));  //   (TCP; on one host loopback or a Unix-domain socket)
        server.setOption(MtcpOptions.ADDITIONAL_SERVERS, List.of(peer)); // alternates told to clients

        while (true) {
            Socket s = server.accept();                                // a new session, or one arriving by migration
            pool.execute(() -> serve(s, root));
        }
    }

    static void serve(Socket s, Path root) {
        try (s) {
            FileState state;
            byte[] saved = s.getOption(MtcpOptions.APP_STATE);     // import_state: empty on a new connection
            if (saved.length == 0) {
                state = new FileState(parseRequest(s.getInputStream()), 0);  // read exactly the request
                s.setOption(MtcpOptions.APP_STATE, state.bytes());           // export_state: a restart point
            } else {
                state = FileState.from(saved);                     // s.getOption(MtcpOptions.MIGRATED) is true
            }
            try (FileChannel f = FileChannel.open(root.resolve(state.name()))) {
                ByteBuffer buf = ByteBuffer.allocate(16 * 1024);
                OutputStream out = s.getOutputStream();
                while (f.read(buf.clear(), state.offset()) > 0) {
                    out.write(buf.array(), 0, buf.position());
                    state = state.advance(buf.position());
                    s.setOption(MtcpOptions.APP_STATE, state.bytes());   // after every chunk
                }
            }
        } catch (ConnectionMigratedException e) {
            // the session lives on at another server, resumed from the last export
        } catch (IOException e) {
            // the client went away, or there is no such file: this connection ends
        }
    }

    /** The application's state: which file, and how much of it the client has been sent. */
    record FileState(String name, long offset) {
        FileState advance(int n) {
            return new FileState(name, offset + n);
        }

        byte[] bytes() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            try (DataOutputStream d = new DataOutputStream(b)) {
                d.writeUTF(name);
                d.writeLong(offset);
            }
            return b.toByteArray();
        }

        static FileState from(byte[] saved) throws IOException {
            try (DataInputStream d = new DataInputStream(new ByteArrayInputStream(saved))) {
                return new FileState(d.readUTF(), d.readLong());
            }
        }
    }

    /** Reads a plain file name and its newline one byte at a time: not a byte past the request. */
    static String parseRequest(InputStream in) throws IOException {
        ByteArrayOutputStream name = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0 || b == '/' || b == '\\' || name.size() == 255) {
                throw new IOException("not a file name");
            }
            name.write(b);
        }
        String file = name.toString(StandardCharsets.UTF_8);
        if (file.isEmpty() || file.equals("..")) {
            throw new IOException("not a file name");
        }
        return file;
    }
}
// README:server-end
