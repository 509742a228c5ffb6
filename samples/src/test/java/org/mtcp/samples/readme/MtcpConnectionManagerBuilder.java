package org.mtcp.samples.readme;

// The README's Apache HttpClient snippet (see FileServer).
// README:httpclient-start
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SchemePortResolver;
import org.apache.hc.client5.http.impl.io.DefaultHttpClientConnectionOperator;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.io.HttpClientConnectionOperator;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.URIScheme;
import org.apache.hc.core5.http.config.RegistryBuilder;
import org.mtcp.client.MtcpSocketFactory;

public class MtcpConnectionManagerBuilder extends PoolingHttpClientConnectionManagerBuilder {
    @Override protected HttpClientConnectionOperator createConnectionOperator(SchemePortResolver p, DnsResolver d, TlsSocketStrategy tls) {
        return new DefaultHttpClientConnectionOperator(proxy -> new MtcpSocketFactory().createSocket(), p, d,
                RegistryBuilder.<TlsSocketStrategy>create().register(URIScheme.HTTPS.id, tls).build());
    }
}
// README:httpclient-end
