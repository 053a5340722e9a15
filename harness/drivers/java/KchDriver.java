// kch driver for Apache Kafka's Java client (kafka-clients): docs/driver-protocol.md.
//
// Build:  javac -cp CLASSPATH -d OUTDIR harness/drivers/java/*.java
// Run:    java -Xmx256m -cp OUTDIR:CLASSPATH KchDriver
//
// Default package, no dependency beyond kafka-clients itself (JSON is read and written by the
// small codec in Json.java, so any kafka-clients classpath works, with or without jackson).
// Commands are JSON lines on stdin, events JSON lines on stdout; stdout carries nothing else:
// System.out is pointed at stderr before any Kafka class loads (Out.open), so a logging
// backend that writes to "the console" (log4j2's default configuration, slf4j-simple) ends up
// in the log, and events go to the real file descriptor 1.
//
// Roles: producer (ProducerRole: send, flush), consumer (ConsumerRole: assign, pause, resume,
// end_offsets, stall), member (MemberRole: subscribe with a rebalance listener;
// commit-after-process, commit-async or auto-commit; stall, pause_partitions, resubscribe). A producer is driven from the stdin thread (a send
// blocks at most max.block.ms); a consumer or member is driven by its poll loop thread
// (PollLoop), which takes commands from a queue (KafkaConsumer is not thread-safe).
// Config.java maps the start command to client properties; Out.java writes the events;
// Cmd.java parses the commands.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

public class KchDriver {
    public static void main(String[] args) throws Exception {
        Out.open();
        if (System.getProperty("log4j2.configurationFile") == null
                && System.getProperty("log4j.configurationFile") == null
                && System.getProperty("org.apache.logging.log4j.level") == null) {
            // log4j2 without a configuration logs ERROR and above to the console (now stderr);
            // INFO keeps the client's rebalance and connection story in the log.
            System.setProperty("org.apache.logging.log4j.level", System.getProperty("kch.log.level", "INFO"));
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        Map<String, Object> start = null;
        String line;
        while (start == null) {
            line = in.readLine();
            if (line == null) {
                Out.log("stdin closed before start");
                System.exit(0);
            }
            Map<String, Object> cmd = Cmd.parse(line, false);
            if (cmd == null) continue;
            if ("start".equals(cmd.get("op"))) start = cmd;
            else Out.log("ignored before start: " + line);
        }
        String role = Cmd.str(start, "role", "");
        Role d;
        switch (role) {
            case "producer": d = new ProducerRole(); break;
            case "consumer": d = new ConsumerRole(); break;
            case "member": d = new MemberRole(); break;
            default:
                Out.emit("startup_failed", "message", "unknown role " + role, "unsupported",
                        List.of("role: " + role));
                System.exit(0);
                return;
        }
        d.start(start);
        while ((line = in.readLine()) != null) {
            Map<String, Object> cmd = Cmd.parse(line, true);
            if (cmd == null) continue;
            if ("shutdown".equals(cmd.get("op"))) break;
            if ("start".equals(cmd.get("op"))) {
                Out.error("start", "already started");
                continue;
            }
            d.command(cmd);
        }
        d.shutdown();           // ends the process
    }
}
