package org.mtcp.samples.readme;

// The README's client snippet (see FileServer).
// README:client-start
import org.mtcp.api.MigrationException;
import org.mtcp.client.MtcpSocket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** FileServer's client: {@code java FileClient big.bin 8080 8081 copy.bin} moves to 8081 after 1 MiB. */
public final class FileClient {
    public static void main(String[] args) throws IOException {
        InetAddress host = InetAddress.getLoopbackAddress();
        try (Socket s = new MtcpSocket(host, Integer.parseInt(args[1]));   // or new MtcpSocketFactory().createSocket()
             OutputStream copy = Files.newOutputStream(Path.of(args[3]))) {
            s.getOutputStream().write((args[0] + "\n").getBytes(StandardCharsets.UTF_8)); // the streams as always
            InputStream in = s.getInputStream();
            copy.write(in.readNBytes(1 << 20));
            try {
                ((MtcpSocket) s).migrate(new InetSocketAddress(host, Integer.parseInt(args[2]))); // optional: the client may ask
                System.out.println("moved to " + s.getRemoteSocketAddress());
            } catch (MigrationException e) {
                System.out.println("stayed: " + e.getMessage()); // e.g. the server had sent it all and closed
            }
            in.transferTo(copy);
        }
    }
}
// README:client-end
