/**
 * The thesis's example server application (Srinivasan 2001, section 6.1.2, figure 6.1) grown into a
 * real HTTP/1.1 static-file server: {@link org.mtcp.samples.http.HttpFileServer} keeps per
 * connection exactly the file, the offset served so far and where the connection is in its
 * keep-alive request stream, exports it after every chunk, and so can hand a live download to a
 * cooperating server mid-file. Clients are unmodified HTTP libraries (HttpURLConnection, OkHttp,
 * Apache HttpClient) given MTCP sockets; {@link org.mtcp.samples.http.HttpCluster} runs cooperating
 * servers on loopback and {@link org.mtcp.samples.http.HttpDemo} shows a download moving between them.
 */
package org.mtcp.samples.http;
