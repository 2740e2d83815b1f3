// One OpenSearch node from the classpath, the way OpenSearch's own test framework starts one
// (MockNode): a Node subclass given the HTTP transport as a classpath plugin, so no distribution
// layout, plugin zips, security manager or bootstrap checks are needed.
//   java -cp <jars>:<this> KasperOpenSearch <home> <httpPort> <transportPort>
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

public class KasperOpenSearch {
  static class LocalNode extends Node {
    LocalNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
      super(environment, plugins, true);
    }
  }

  public static void main(String[] args) throws Exception {
    Path home = Paths.get(args[0]).toAbsolutePath();
    Files.createDirectories(home.resolve("config"));
    Settings settings = Settings.builder()
        .put("path.home", home.toString())
        .put("path.data", home.resolve("data").toString())
        .put("path.logs", home.resolve("logs").toString())
        .put("cluster.name", "kasper-ts")
        .put("node.name", "kasper-ts-0")
        .put("discovery.type", "single-node")
        .put("network.host", "127.0.0.1")
        .put("http.port", args[1])
        .put("transport.port", args[2])
        .put("cluster.routing.allocation.disk.threshold_enabled", false)
        .build();
    Node node = new LocalNode(new Environment(settings, home.resolve("config")), List.of(Netty4Plugin.class));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        node.close();
      } catch (Exception e) {
        e.printStackTrace();
      }
      stopped.countDown();
    }));
    node.start();
    System.out.println("kasper-opensearch: started");
    stopped.await();
  }
}
