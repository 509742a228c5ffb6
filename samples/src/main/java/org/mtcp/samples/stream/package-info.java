/**
 * The thesis's stream-server experiment (Srinivasan 2001, section 5.3.2, figure 5.4) on MTCP sockets:
 * a migration-enabled stream server in the programming model of section 6.1.2, a cluster of
 * cooperating copies of it on loopback, a verifying client that lets a
 * {@link org.mtcp.client.SmoothedThroughputPolicy} move it between them, and
 * {@link org.mtcp.samples.stream.StreamDemo}, which runs the experiment and plots the trace.
 */
package org.mtcp.samples.stream;
