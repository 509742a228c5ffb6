package org.mtcp.samples.http;

import org.mtcp.server.MtcpServerSocket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The floor {@link HttpFileServer} is measured against (docs/benchmarks.md, "HTTP file server"): the
 * same request parsing and responses, no state export and no migration, one thread per connection,
 * {@code TCP_NODELAY}, each response in one write. On a plain {@code ServerSocket} by default, on an
 * {@code MtcpServerSocket} with {@code --mtcp} (the library's cost without the application's exports).
 *
 * <p>{@code java -cp ... org.mtcp.samples.http.PlainFloorServer --port 8001 --root DIR [--mtcp]}
 */
public final class PlainFloorServer {
    private PlainFloorServer() {
    }

    /**
     * @param args {@code --port N}, {@code --root DIR}, {@code --mtcp}
     * @throws IOException when the port cannot be bound
     */
    public static void main(String[] args) throws IOException {
        int port = 8001;
        Path root = Path.of("").toAbsolutePath();
        boolean mtcp = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--root" -> root = Path.of(args[++i]);
                case "--mtcp" -> mtcp = true;
                default -> {
                    System.err.println("unknown option: " + args[i]);
                    System.exit(2);
                }
            }
        }
        DocumentRoot documents = new DocumentRoot(root);
        InetAddress lo = InetAddress.getLoopbackAddress();
        ServerSocket server = mtcp ? new MtcpServerSocket(port, 128, lo) : new ServerSocket(port, 128, lo);
        ExecutorService pool = Executors.newCachedThreadPool();
        System.out.println((mtcp ? "MtcpServerSocket" : "ServerSocket") + " floor serving " + root + " on "
                + lo.getHostAddress() + " port " + server.getLocalPort());
        while (true) {
            Socket s = server.accept();
            pool.execute(() -> serve(s, documents));
        }
    }

    private static void serve(Socket socket, DocumentRoot root) {
        try (Socket s = socket) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(30_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            while (true) {
                ResponsePlan plan;
                try {
                    HttpRequest request = RequestReader.read(in);
                    if (request == null) {
                        return;
                    }
                    plan = root.plan(request, TimeUnit.MILLISECONDS.toSeconds(System.currentTimeMillis()));
                } catch (BadRequestException e) {
                    plan = ResponsePlan.error(e.status(), TimeUnit.MILLISECONDS.toSeconds(System.currentTimeMillis()), false,
                            ResponsePlan.Connection.CLOSE);
                }
                byte[] head = plan.head();
                ByteBuffer response;
                if (plan.hasFileBody()) {
                    response = ByteBuffer.allocate(head.length + (int) (plan.end() - plan.start())).put(head);
                    try (FileChannel file = root.open(plan)) {
                        DocumentRoot.readFully(file, response, plan.start());
                    }
                } else {
                    byte[] body = plan.bodyAfterHead();
                    response = ByteBuffer.allocate(head.length + body.length).put(head).put(body);
                }
                out.write(response.array());
                out.flush();
                if (plan.closesConnection()) {
                    return;
                }
            }
        } catch (IOException e) {
            // the client went away
        }
    }
}
