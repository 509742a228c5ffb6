package org.mtcp.samples.multihost;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import java.util.Arrays;
import java.util.Set;

/**
 * The operator of the multi-host demo: a plain JMX client that connects to a server's JMX port, shows its
 * sessions and drains it to the given servers through the {@code org.mtcp:type=MtcpServerSocket} bean's
 * {@code drain} operation, as {@code jconsole} or any JMX tool would.
 *
 * <pre>
 * java -cp CP org.mtcp.samples.multihost.DemoOperator JMX_HOST:PORT TARGET_HOST:PORT[,...]
 * </pre>
 */
public final class DemoOperator {
    private DemoOperator() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: DemoOperator JMX_HOST:PORT TARGET_HOST:PORT[,...]");
            System.exit(2);
        }
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://" + args[0] + "/jmxrmi");
        try (JMXConnector jmx = JMXConnectorFactory.connect(url)) {
            MBeanServerConnection c = jmx.getMBeanServerConnection();
            Set<ObjectName> names = c.queryNames(new ObjectName("org.mtcp:type=MtcpServerSocket,*"), null);
            if (names.isEmpty()) {
                System.out.println("operator: no org.mtcp:type=MtcpServerSocket bean at " + args[0]);
                System.exit(1);
            }
            for (ObjectName name : names) {
                System.out.println("operator: " + args[0] + " " + name + ": SessionCount=" + c.getAttribute(name, "SessionCount")
                        + " SessionIds=" + Arrays.toString((String[]) c.getAttribute(name, "SessionIds")));
                System.out.println("operator: invoking drain(\"" + args[1] + "\")");
                long start = System.nanoTime();
                Object moved = c.invoke(name, "drain", new Object[] {args[1]}, new String[] {String.class.getName()});
                System.out.printf("operator: drain returned %s session(s) moved in %.0f ms; SessionCount now %s%n",
                        moved, (System.nanoTime() - start) / 1e6, c.getAttribute(name, "SessionCount"));
            }
        }
    }
}
