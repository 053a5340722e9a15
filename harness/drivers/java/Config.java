// The start command as kafka-clients properties: config keys checked against the client's own
// config names (an unknown key is startup_failed with unsupported), then each role's settings.
// A method that returns null has written startup_failed; its caller exits 0.

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.utils.AppInfoParser;

final class Config {
    /** The start command's config as client properties; null (after startup_failed) if a key is unknown. */
    static Properties properties(Map<String, Object> start, Set<String> known) {
        Properties props = new Properties();
        List<String> unsupported = new ArrayList<>();
        Object config = start.get("config");
        if (config instanceof Map) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) config).entrySet()) {
                String k = e.getKey().toString();
                if (!known.contains(k)) unsupported.add(k);
                else if (e.getValue() != null) props.setProperty(k, e.getValue().toString());
            }
        }
        if (!unsupported.isEmpty()) {
            Out.emit("startup_failed", "message", "not a config of kafka-clients " + AppInfoParser.getVersion()
                    + ": " + String.join(", ", unsupported), "unsupported", unsupported);
            return null;
        }
        props.setProperty("bootstrap.servers", Cmd.str(start, "bootstrap", props.getProperty("bootstrap.servers", "")));
        return props;
    }

    // ---------------------------------------------------------------- producer
    static Properties producer(Map<String, Object> start) {
        Properties props = properties(start, ProducerConfig.configNames());
        if (props == null) return null;
        props.setProperty("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        props.setProperty("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        if (start.get("max_block_ms") != null)
            props.setProperty("max.block.ms", Long.toString(Cmd.num(start, "max_block_ms", 60000)));
        return props;
    }

    /** Java refuses delivery.timeout.ms < linger.ms + request.timeout.ms when it is set
     *  explicitly; raise it to that minimum instead. Throws on a value that is not a number:
     *  the caller runs it with the client's construction, where that is startup_failed. */
    static void raiseDeliveryTimeout(Properties props) {
        if (props.getProperty("delivery.timeout.ms") != null) {
            long delivery = Long.parseLong(props.getProperty("delivery.timeout.ms").trim());
            long linger = Long.parseLong(props.getProperty("linger.ms",
                    String.valueOf(ProducerConfig.configDef().defaultValues().getOrDefault("linger.ms", 0))).trim());
            long request = Long.parseLong(props.getProperty("request.timeout.ms",
                    String.valueOf(ProducerConfig.configDef().defaultValues().getOrDefault("request.timeout.ms", 30000))).trim());
            if (delivery < linger + request) {
                Out.log("delivery.timeout.ms " + delivery + " < linger.ms " + linger + " + request.timeout.ms "
                        + request + ": raised to " + (linger + request));
                props.setProperty("delivery.timeout.ms", Long.toString(linger + request));
            }
        }
    }

    // ---------------------------------------------------------------- consumer and member
    /** What both consumer roles share: the config and string deserializers. */
    static Properties consumer(Map<String, Object> start) {
        Properties props = properties(start, ConsumerConfig.configNames());
        if (props == null) return null;
        props.setProperty("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        props.setProperty("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        return props;
    }

    /** The consumer role. */
    static Properties assigned(Properties props, Map<String, Object> start) {
        // No group: partitions are assigned and read from their beginnings, nothing is
        // committed. The group name only names the client.
        props.setProperty("enable.auto.commit", "false");
        props.setProperty("auto.offset.reset", "earliest");
        if (props.getProperty("client.id") == null && start.get("group") != null)
            props.setProperty("client.id", Cmd.str(start, "group", ""));
        return props;
    }

    /** The member role: group, commit mode and group protocol; null after startup_failed. */
    static Properties member(Properties props, Map<String, Object> start) {
        Set<String> known = ConsumerConfig.configNames();
        String mode = Cmd.str(start, "mode", "commit-after-process");
        String protocol = Cmd.str(start, "protocol", "classic-eager");
        if (!Arrays.asList("commit-after-process", "commit-async", "auto-commit").contains(mode)) {
            Out.emit("startup_failed", "message", "unknown mode " + mode, "unsupported", List.of("mode: " + mode));
            return null;
        }
        props.setProperty("group.id", Cmd.str(start, "group", "kch"));
        if (props.getProperty("auto.offset.reset") == null) props.setProperty("auto.offset.reset", "earliest");
        String autoCommit = String.valueOf(mode.equals("auto-commit"));
        if (props.getProperty("enable.auto.commit") != null
                && !props.getProperty("enable.auto.commit").trim().equalsIgnoreCase(autoCommit))
            Out.log("enable.auto.commit=" + props.getProperty("enable.auto.commit") + " overridden by mode " + mode);
        props.setProperty("enable.auto.commit", autoCommit);
        String strategy = props.getProperty("partition.assignment.strategy");
        switch (protocol) {
            case "classic-eager":
            case "classic-cooperative":
                if (known.contains("group.protocol")) props.setProperty("group.protocol", "classic");
                if (protocol.equals("classic-cooperative"))
                    strategy = "org.apache.kafka.clients.consumer.CooperativeStickyAssignor";
                else if (strategy == null)
                    strategy = "org.apache.kafka.clients.consumer.RangeAssignor";
                props.setProperty("partition.assignment.strategy", assignors(strategy));
                break;
            case "consumer":
                if (!known.contains("group.protocol")) {
                    Out.emit("startup_failed", "message", "kafka-clients " + AppInfoParser.getVersion()
                            + " has no group.protocol (KIP-848)", "unsupported", List.of("group.protocol"));
                    return null;
                }
                props.setProperty("group.protocol", "consumer");
                for (String k : List.of("session.timeout.ms", "heartbeat.interval.ms",
                        "partition.assignment.strategy"))
                    props.remove(k);
                break;
            default:
                Out.emit("startup_failed", "message", "unknown protocol " + protocol, "unsupported",
                        List.of("protocol: " + protocol));
                return null;
        }
        return props;
    }

    /** Short assignor names (librdkafka's, as a spec may give them) as Java class names. */
    static String assignors(String value) {
        List<String> r = new ArrayList<>();
        for (String s : value.split(",")) {
            s = s.trim();
            if (s.isEmpty()) continue;
            switch (s) {
                case "range": r.add("org.apache.kafka.clients.consumer.RangeAssignor"); break;
                case "roundrobin": r.add("org.apache.kafka.clients.consumer.RoundRobinAssignor"); break;
                case "sticky": r.add("org.apache.kafka.clients.consumer.StickyAssignor"); break;
                case "cooperative-sticky": r.add("org.apache.kafka.clients.consumer.CooperativeStickyAssignor"); break;
                default: r.add(s);
            }
        }
        return String.join(",", r);
    }
}
