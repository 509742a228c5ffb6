package org.mtcp.samples.readme;

import org.mtcp.api.MtcpOptions;
import org.mtcp.server.ControlTls;
import org.mtcp.server.MtcpServerSocket;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.nio.file.Path;

/** The README's Security snippet, a fragment of FileServer's setup (its imports are FileServer's). */
final class ControlTlsSnippet {
    private ControlTlsSnippet() {
    }

    static void secure(MtcpServerSocket server) throws IOException {
        // README:tls-start
        SSLContext tls = ControlTls.fromPkcs12(Path.of("certs/s1/node.p12"), "changeit".toCharArray(), Path.of("certs/ca.pem"));
        server.setOption(MtcpOptions.CONTROL_TLS, tls);  // then CONTROL_MAPPINGS as above
        // README:tls-end
    }
}
