package org.mtcp.samples.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A parsed request head: what {@link RequestReader} consumed, ready for {@link DocumentRoot#plan}.
 *
 * @param method       the method token, as sent (methods are case-sensitive)
 * @param target       the request target, as sent
 * @param minorVersion 0 for HTTP/1.0, 1 for HTTP/1.1
 * @param fields       header fields in order of arrival, names as sent
 */
record HttpRequest(String method, String target, int minorVersion, List<Field> fields) {

    /**
     * One header field.
     *
     * @param name  field name, as sent
     * @param value field value without surrounding whitespace
     */
    record Field(String name, String value) {
    }

    HttpRequest {
        fields = List.copyOf(fields);
    }

    /**
     * @param name a field name (case-insensitive)
     * @return the values of every field of that name, in order
     */
    List<String> values(String name) {
        List<String> values = new ArrayList<>(1);
        for (Field f : fields) {
            if (f.name().equalsIgnoreCase(name)) {
                values.add(f.value());
            }
        }
        return values;
    }

    /**
     * @param name a field name (case-insensitive)
     * @return the value of the only field of that name, or {@code null} when there is none or several
     */
    String single(String name) {
        List<String> values = values(name);
        return values.size() == 1 ? values.get(0) : null;
    }

    /**
     * @param name  a field name holding a comma-separated token list, such as {@code Connection}
     * @param token a token (case-insensitive)
     * @return {@code true} when any field of that name lists the token
     */
    boolean hasToken(String name, String token) {
        for (String value : values(name)) {
            for (String t : value.split(",")) {
                if (t.strip().toLowerCase(Locale.ROOT).equals(token)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** @return {@code true} when the connection persists after this request's response (RFC 9112 9.3) */
    boolean keepAlive() {
        if (hasToken("Connection", "close")) {
            return false;
        }
        return minorVersion >= 1 || hasToken("Connection", "keep-alive");
    }
}
