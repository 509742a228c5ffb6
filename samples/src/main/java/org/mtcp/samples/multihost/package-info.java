/**
 * The multi-host demo ({@code samples/multihost-demo.sh}, {@code docs/demo-multihost.md}): three server
 * hosts and a client host in network namespaces, TLS on the control connections, membership from a DNS
 * server; the client's policy moves the session off a rate-limited server, an operator drains a server
 * over JMX, and the client checks every byte.
 */
package org.mtcp.samples.multihost;
