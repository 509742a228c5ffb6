package org.mtcp.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mtcp.api.MtcpOptions;
import org.mtcp.client.MtcpSocket;
import org.mtcp.server.MtcpServerSocket;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-server plain-client settings: {@link MtcpOptions#PLAIN_CLIENT_WAIT} (how long a silent client
 * is given before it is served as plain TCP, for protocols where the server speaks first) and
 * {@link MtcpOptions#PLAIN_CLIENTS} (MTCP clients only).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PlainClientOptionsTest {
    private static final InetAddress LO = InetAddress.getLoopbackAddress();

    @Test
    void theWaitForASilentClientIsAPerServerSetting() throws Exception {
        try (MtcpServerSocket patient = new MtcpServerSocket(0, 50, LO);
             MtcpServerSocket quick = new MtcpServerSocket(0, 50, LO)) {
            patient.setOption(MtcpOptions.PLAIN_CLIENT_WAIT, Duration.ofHours(1));
            quick.setOption(MtcpOptions.PLAIN_CLIENT_WAIT, Duration.ofMillis(20));
            assertEquals(Duration.ofHours(1), patient.getOption(MtcpOptions.PLAIN_CLIENT_WAIT));
            assertEquals(Duration.ofMillis(20), quick.getOption(MtcpOptions.PLAIN_CLIENT_WAIT));
            assertTrue(patient.supportedOptions().contains(MtcpOptions.PLAIN_CLIENT_WAIT));
            assertThrows(IllegalArgumentException.class, () -> quick.setOption(MtcpOptions.PLAIN_CLIENT_WAIT, Duration.ofMillis(-1)));

            try (Socket silentAtPatient = new Socket(LO, patient.getLocalPort());
                 Socket silentAtQuick = new Socket(LO, quick.getLocalPort())) {
                patient.setSoTimeout(500);
                assertThrows(SocketTimeoutException.class, patient::accept,
                        "a silent client is still being given its hour to show it speaks MTCP");
                assertEquals(0, silentAtPatient.getInputStream().available(), "nothing served it yet");
                quick.setSoTimeout(30_000);
                try (Socket served = quick.accept()) { // the server speaks first, as SMTP's does
                    served.getOutputStream().write("220 ready\r\n".getBytes(StandardCharsets.US_ASCII));
                    silentAtQuick.setSoTimeout(30_000);
                    assertEquals("220 ready", new String(silentAtQuick.getInputStream().readNBytes(9), StandardCharsets.US_ASCII));
                    assertEquals(Boolean.FALSE, served.getOption(MtcpOptions.MIGRATED));
                }
            }
        }
    }

    @Test
    void mtcpClientsOnlyClosesPlainClientsAndServesMtcpOnes() throws Exception {
        try (MtcpServerSocket server = new MtcpServerSocket(0, 50, LO)) {
            assertEquals(Boolean.TRUE, server.getOption(MtcpOptions.PLAIN_CLIENTS), "plain clients are served by default");
            server.setOption(MtcpOptions.PLAIN_CLIENTS, false);
            // long enough for an MTCP client's handshake on a loaded machine (a shorter wait could drop it: the README says so)
            server.setOption(MtcpOptions.PLAIN_CLIENT_WAIT, Duration.ofSeconds(1));
            try (Socket plain = new Socket(LO, server.getLocalPort())) {
                plain.setSoTimeout(30_000);
                plain.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                int first;
                try {
                    first = plain.getInputStream().read();
                } catch (IOException reset) {
                    first = -1;
                }
                assertEquals(-1, first, "a plain client of an MTCP-only server is closed without an answer");
            }
            try (Socket silent = new Socket(LO, server.getLocalPort());
                 MtcpSocket client = new MtcpSocket(LO, server.getLocalPort())) {
                server.setSoTimeout(30_000);
                try (Socket a = server.accept()) {
                    assertEquals(client.getLocalPort(), a.getPort(), "accept() returns the MTCP client, never the plain ones");
                    a.getOutputStream().write(7);
                    client.setSoTimeout(30_000);
                    assertEquals(7, client.getInputStream().read());
                }
                silent.setSoTimeout(30_000);
                int got;
                try {
                    got = silent.getInputStream().read();
                } catch (IOException reset) {
                    got = -1;
                }
                assertEquals(-1, got, "a silent plain client is closed after the wait");
            }
        }
    }
}
