// The driver's stdout: events only, one JSON object a line, flushed after each (lines of
// several threads never interleave). Also the log (stderr), the events every role shares
// (startup_complete, startup_failed, shutdown_complete, error) and the text of exceptions.

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.io.UnsupportedEncodingException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.AppInfoParser;

final class Out {
    static final String CLIENT = "kafka-clients";

    static PrintStream out;                       // the real stdout: events only
    static final Object OUT_LOCK = new Object();

    /** Takes file descriptor 1 for events; called before any Kafka class loads. */
    static void open() throws UnsupportedEncodingException {
        out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16),
                false, "UTF-8");
        System.setOut(System.err);        // whatever logs to "the console" goes to the log
    }

    // ---------------------------------------------------------------- events
    static Map<String, Object> ev(String name) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("timestamp", System.currentTimeMillis());
        m.put("mono", System.nanoTime() / 1e9);
        return m;
    }

    static void write(Map<String, Object> m) {
        String line = Json.write(m);
        synchronized (OUT_LOCK) {
            out.print(line);
            out.print('\n');
            out.flush();
        }
    }

    /** Several events as one write, so nothing else lands between them (a batch). */
    static void writeAll(List<Map<String, Object>> events) {
        StringBuilder sb = new StringBuilder();
        for (Map<String, Object> m : events) sb.append(Json.write(m)).append('\n');
        synchronized (OUT_LOCK) {
            out.print(sb);
            out.flush();
        }
    }

    static void emit(String name, Object... kv) {
        Map<String, Object> m = ev(name);
        for (int i = 0; i + 1 < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        write(m);
    }

    static void log(String msg) {
        System.err.println("[kch-driver] " + msg);
        System.err.flush();
    }

    static void error(String op, String message) {
        emit("error", "op", op, "message", message);
    }

    static void startupComplete() {
        emit("startup_complete", "client", CLIENT, "version", AppInfoParser.getVersion());
    }

    static void startupFailed(Throwable e) {
        log("client construction failed: " + e);
        e.printStackTrace(System.err);
        Throwable root = e;
        while (root.getCause() != null) root = root.getCause();
        emit("startup_failed", "message", e.getClass().getSimpleName() + ": " + msg(e)
                + (root != e ? " (" + root.getClass().getSimpleName() + ": " + msg(root) + ")" : ""));
    }

    static void shutdownComplete() {
        emit("shutdown_complete");
        out.flush();
        System.exit(0);
    }

    // ---------------------------------------------------------------- fields
    static List<Map<String, Object>> tpList(Collection<TopicPartition> tps) {
        List<TopicPartition> sorted = new ArrayList<>(tps);
        sorted.sort((a, b) -> a.topic().equals(b.topic()) ? Integer.compare(a.partition(), b.partition())
                : a.topic().compareTo(b.topic()));
        List<Map<String, Object>> r = new ArrayList<>();
        for (TopicPartition tp : sorted) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("topic", tp.topic());
            m.put("partition", tp.partition());
            r.add(m);
        }
        return r;
    }

    static List<Map<String, Object>> offsetList(Map<TopicPartition, OffsetAndMetadata> offsets) {
        List<Map<String, Object>> r = new ArrayList<>();
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("topic", e.getKey().topic());
            m.put("partition", e.getKey().partition());
            m.put("offset", e.getValue().offset());
            r.add(m);
        }
        return r;
    }

    // ---------------------------------------------------------------- exceptions
    /** Whether the exception's class or one of its superclasses has one of these simple names
     *  (names, not classes, so older clients need not have them all). */
    static boolean matches(Throwable e, Set<String> names) {
        for (Class<?> c = e.getClass(); c != null; c = c.getSuperclass())
            if (names.contains(c.getSimpleName())) return true;
        return false;
    }

    static String msg(Throwable e) {
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
