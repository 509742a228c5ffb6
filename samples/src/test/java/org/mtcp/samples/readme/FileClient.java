package org.mtcp.samples.readme;

// The README's client snippet (see FileServer).
// README:client-start
import org.mtcp.client.MtcpSocket;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** FileServer's client: sends a file name, saves what comes back. */
public final class FileClient {
    public static void main(String[] args) throws IOException {
        try (Socket s = new MtcpSocket("s1.example.net", 8080)) {    // or new MtcpSocketFactory().createSocket()
            s.getOutputStream().write("big.bin\n".getBytes(StandardCharsets.UTF_8)); // the streams as always
            ((MtcpSocket) s).migrate(new InetSocketAddress("s2.example.net", 8080)); // optional: the client may ask
            Files.copy(s.getInputStream(), Path.of("big.bin"), StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
// README:client-end
