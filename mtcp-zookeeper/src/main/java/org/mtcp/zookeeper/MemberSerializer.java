package org.mtcp.zookeeper;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceType;
import org.apache.curator.x.discovery.details.InstanceSerializer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The JSON of one instance znode: Curator's {@code ServiceInstance} fields ({@code name}, {@code id},
 * {@code address}, {@code port}, {@code registrationTimeUTC}, {@code serviceType}, ...) with a payload
 * {@code {"control": "tcp:127.0.0.1:9100"}} or {@code {"control": "unix:/run/mtcp/a.sock"}}. The payload
 * carries no Java class name (Curator's {@code JsonInstanceSerializer} would write an {@code @class}
 * property and instantiate whatever class a znode names), so other tools can read and write it; Curator's
 * own serializer reads it with a {@code Map} payload.
 */
final class MemberSerializer implements InstanceSerializer<String> {
    static final String TCP = "tcp:";
    static final String UNIX = "unix:";

    private final ObjectMapper mapper = new ObjectMapper();

    @Override
    public byte[] serialize(ServiceInstance<String> instance) throws IOException {
        ObjectNode n = mapper.createObjectNode();
        n.put("name", instance.getName());
        n.put("id", instance.getId());
        n.put("address", instance.getAddress());
        if (instance.getPort() != null) {
            n.put("port", instance.getPort());
        }
        n.put("registrationTimeUTC", instance.getRegistrationTimeUTC());
        n.put("serviceType", instance.getServiceType().name());
        n.put("enabled", instance.isEnabled());
        if (instance.getPayload() != null) {
            n.putObject("payload").put("control", instance.getPayload());
        }
        return mapper.writeValueAsBytes(n);
    }

    @Override
    public ServiceInstance<String> deserialize(byte[] bytes) throws IOException {
        JsonNode n = mapper.readTree(bytes);
        if (n == null || !n.isObject()) {
            throw new IOException("not a service instance: " + new String(bytes, StandardCharsets.UTF_8));
        }
        JsonNode control = n.path("payload").path("control");
        JsonNode port = n.path("port");
        ServiceType type;
        try {
            type = ServiceType.valueOf(n.path("serviceType").asText("DYNAMIC"));
        } catch (IllegalArgumentException e) {
            type = ServiceType.DYNAMIC;
        }
        return new ServiceInstance<>(
                n.path("name").asText(null),
                n.path("id").asText(null),
                n.path("address").asText(null),
                port.canConvertToInt() ? port.asInt() : null,
                null,
                control.isTextual() ? control.asText() : null,
                n.path("registrationTimeUTC").asLong(0),
                type,
                null,
                n.path("enabled").asBoolean(true));
    }

    /** @return {@code tcp:host:port} or {@code unix:path} */
    static String encode(SocketAddress control) {
        if (control instanceof UnixDomainSocketAddress) {
            return UNIX + ((UnixDomainSocketAddress) control).getPath();
        }
        if (control instanceof InetSocketAddress) {
            InetSocketAddress a = (InetSocketAddress) control;
            String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
            return TCP + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
        }
        throw new IllegalArgumentException("a control address is TCP (InetSocketAddress) or Unix-domain"
                + " (UnixDomainSocketAddress), not " + control.getClass().getName());
    }

    /**
     * @return the control address of a payload; a TCP host name is resolved here
     * @throws IllegalArgumentException for a malformed payload
     */
    static SocketAddress decode(String control) {
        if (control.startsWith(UNIX) && control.length() > UNIX.length()) {
            return UnixDomainSocketAddress.of(control.substring(UNIX.length()));
        }
        if (control.startsWith(TCP)) {
            String hp = control.substring(TCP.length());
            int colon = hp.lastIndexOf(':');
            if (colon > 0) {
                String host = hp.substring(0, colon);
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
                int port;
                try {
                    port = Integer.parseInt(hp.substring(colon + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bad port in control address " + control);
                }
                return new InetSocketAddress(host, port);
            }
        }
        throw new IllegalArgumentException("control address neither tcp:host:port nor unix:path: " + control);
    }
}
