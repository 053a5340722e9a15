// kch driver for Apache Kafka's Java client (kafka-clients): docs/driver-protocol.md.
//
// Build:  javac -cp CLASSPATH -d OUTDIR KchDriver.java
// Run:    java -Xmx256m -cp OUTDIR:CLASSPATH KchDriver
//
// One source file, default package, no dependency beyond kafka-clients itself (JSON is read
// and written by the small codec at the end, so any kafka-clients classpath works, with or
// without jackson). Commands are JSON lines on stdin, events JSON lines on stdout; stdout
// carries nothing else: System.out is pointed at stderr before any Kafka class loads, so a
// logging backend that writes to "the console" (log4j2's default configuration, slf4j-simple)
// ends up in the log, and events go to the real file descriptor 1.
//
// Roles: producer (send, flush), consumer (assign, end_offsets, stall), member (subscribe with
// a rebalance listener; commit-after-process, commit-async or auto-commit; stall). A producer
// is driven from the stdin thread (a send blocks at most max.block.ms); a consumer or member is
// driven by its poll loop thread, which takes commands from a queue (KafkaConsumer is not
// thread-safe).

import java.io.BufferedReader;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.AppInfoParser;

public class KchDriver {
    static final String CLIENT = "kafka-clients";

    // Send errors after which the record was certainly not appended (matched by simple class
    // name on the exception's class and its superclasses, so older clients need not have them).
    static final Set<String> DEFINITE_SEND = new HashSet<>(Arrays.asList(
            "RecordTooLargeException", "RecordBatchTooLargeException", "NotEnoughReplicasException",
            "InvalidRecordException", "InvalidTopicException", "TopicAuthorizationException",
            "ClusterAuthorizationException", "SerializationException"));
    // Commit errors after which the commit certainly did not apply (the coordinator rejected
    // the request, or the client refused to send it).
    static final Set<String> DEFINITE_COMMIT = new HashSet<>(Arrays.asList(
            "CommitFailedException", "RebalanceInProgressException", "FencedInstanceIdException",
            "UnknownMemberIdException", "IllegalGenerationException", "StaleMemberEpochException",
            "GroupAuthorizationException", "TopicAuthorizationException", "OffsetMetadataTooLarge",
            "InvalidCommitOffsetSizeException"));

    static PrintStream out;                       // the real stdout: events only
    static final Object OUT_LOCK = new Object();

    // ---------------------------------------------------------------- output
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

    static boolean matches(Throwable e, Set<String> names) {
        for (Class<?> c = e.getClass(); c != null; c = c.getSuperclass())
            if (names.contains(c.getSimpleName())) return true;
        return false;
    }

    static String msg(Throwable e) {
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    // ---------------------------------------------------------------- helpers
    static long num(Map<String, Object> cmd, String key, long dflt) {
        Object v = cmd.get(key);
        if (v instanceof Number) return ((Number) v).longValue();
        if (v instanceof String) return Long.parseLong((String) v);
        return dflt;
    }

    static String str(Map<String, Object> cmd, String key, String dflt) {
        Object v = cmd.get(key);
        return v == null ? dflt : v.toString();
    }

    static List<Integer> ints(Object v) {
        List<Integer> r = new ArrayList<>();
        if (v instanceof List) for (Object o : (List<?>) v) r.add(((Number) o).intValue());
        return r;
    }

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
            emit("startup_failed", "message", "not a config of kafka-clients " + AppInfoParser.getVersion()
                    + ": " + String.join(", ", unsupported), "unsupported", unsupported);
            return null;
        }
        props.setProperty("bootstrap.servers", str(start, "bootstrap", props.getProperty("bootstrap.servers", "")));
        return props;
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

    // ---------------------------------------------------------------- main
    public static void main(String[] args) throws Exception {
        out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16),
                false, "UTF-8");
        System.setOut(System.err);        // whatever logs to "the console" goes to the log
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
                log("stdin closed before start");
                System.exit(0);
            }
            Map<String, Object> cmd = parseCommand(line, false);
            if (cmd == null) continue;
            if ("start".equals(cmd.get("op"))) start = cmd;
            else log("ignored before start: " + line);
        }
        String role = str(start, "role", "");
        Driver d;
        switch (role) {
            case "producer": d = new Producer(); break;
            case "consumer": d = new Consumer(false); break;
            case "member": d = new Consumer(true); break;
            default:
                emit("startup_failed", "message", "unknown role " + role, "unsupported",
                        List.of("role: " + role));
                System.exit(0);
                return;
        }
        d.start(start);
        while ((line = in.readLine()) != null) {
            Map<String, Object> cmd = parseCommand(line, true);
            if (cmd == null) continue;
            if ("shutdown".equals(cmd.get("op"))) break;
            if ("start".equals(cmd.get("op"))) {
                error("start", "already started");
                continue;
            }
            d.command(cmd);
        }
        d.shutdown();           // ends the process
    }

    static Map<String, Object> parseCommand(String line, boolean report) {
        line = line.trim();
        if (line.isEmpty()) return null;
        try {
            Object o = Json.parse(line);
            if (o instanceof Map) {
                @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) o;
                if (m.get("op") instanceof String) return m;
            }
            throw new IllegalArgumentException("not a command object with an op");
        } catch (RuntimeException e) {
            log("bad command line: " + line + ": " + e);
            if (report) error(null, "bad command: " + msg(e));
            return null;
        }
    }

    interface Driver {
        void start(Map<String, Object> start);       // startup_complete or startup_failed (+exit)
        void command(Map<String, Object> cmd);       // called on the stdin thread
        void shutdown();                              // close, shutdown_complete, exit 0
    }

    // ================================================================ producer
    static final class Producer implements Driver {
        KafkaProducer<String, String> producer;
        final Object lock = new Object();
        long outstanding = 0;                                      // guarded by lock
        final AtomicLong seq = new AtomicLong();
        final ConcurrentHashMap<Long, Send> pending = new ConcurrentHashMap<>();

        final class Send implements Callback {
            final long n;
            final Map<String, Object> cmd;
            final Thread thread = Thread.currentThread();
            volatile boolean inSend = true;                        // inside producer.send()
            final AtomicBoolean done = new AtomicBoolean();

            Send(long n, Map<String, Object> cmd) { this.n = n; this.cmd = cmd; }

            @Override
            public void onCompletion(RecordMetadata md, Exception e) {
                if (e == null) success(md);
                else {
                    // Failing on the sending thread, inside send(): the record never entered the
                    // buffer (metadata or buffer space not available within max.block.ms, too
                    // large, ...), whatever the exception.
                    boolean sync = inSend && Thread.currentThread() == thread;
                    failure(e, sync || matches(e, DEFINITE_SEND), sync);
                }
            }

            void success(RecordMetadata md) {
                if (!finish()) return;
                Map<String, Object> m = ev("producer_send_success");
                m.put("id", cmd.get("id"));
                m.put("topic", md.topic());
                m.put("partition", md.partition());
                m.put("offset", md.hasOffset() ? md.offset() : -1L);
                m.put("key", cmd.get("key"));
                m.put("value", cmd.get("value"));
                write(m);
            }

            void failure(Throwable e, boolean definite, boolean sync) {
                if (!finish()) return;
                Map<String, Object> m = ev("producer_send_error");
                m.put("id", cmd.get("id"));
                m.put("topic", cmd.get("topic"));
                m.put("key", cmd.get("key"));
                m.put("value", cmd.get("value"));
                m.put("exception", e.getClass().getSimpleName());
                m.put("message", msg(e));
                m.put("definite", definite);
                if (sync) m.put("sync", true);
                write(m);
            }

            boolean finish() {
                if (!done.compareAndSet(false, true)) return false;
                pending.remove(n);
                synchronized (lock) {
                    if (--outstanding == 0) lock.notifyAll();
                }
                return true;
            }
        }

        @Override
        public void start(Map<String, Object> start) {
            Properties props = properties(start, ProducerConfig.configNames());
            if (props == null) System.exit(0);
            props.setProperty("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
            props.setProperty("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
            if (start.get("max_block_ms") != null)
                props.setProperty("max.block.ms", Long.toString(num(start, "max_block_ms", 60000)));
            try {
                // Java refuses delivery.timeout.ms < linger.ms + request.timeout.ms when it is set
                // explicitly; raise it to that minimum instead.
                if (props.getProperty("delivery.timeout.ms") != null) {
                    long delivery = Long.parseLong(props.getProperty("delivery.timeout.ms").trim());
                    long linger = Long.parseLong(props.getProperty("linger.ms",
                            String.valueOf(ProducerConfig.configDef().defaultValues().getOrDefault("linger.ms", 0))).trim());
                    long request = Long.parseLong(props.getProperty("request.timeout.ms",
                            String.valueOf(ProducerConfig.configDef().defaultValues().getOrDefault("request.timeout.ms", 30000))).trim());
                    if (delivery < linger + request) {
                        log("delivery.timeout.ms " + delivery + " < linger.ms " + linger + " + request.timeout.ms "
                                + request + ": raised to " + (linger + request));
                        props.setProperty("delivery.timeout.ms", Long.toString(linger + request));
                    }
                }
                producer = new KafkaProducer<>(props);
            } catch (Throwable e) {
                startupFailed(e);
                System.exit(1);
            }
            startupComplete();
        }

        @Override
        public void command(Map<String, Object> cmd) {
            String op = (String) cmd.get("op");
            switch (op) {
                case "send": send(cmd); break;
                case "flush": flush(num(cmd, "timeout_ms", 30000)); break;
                default: error(op, "unknown op for a producer: " + op);
            }
        }

        void send(Map<String, Object> cmd) {
            Send s = new Send(seq.incrementAndGet(), cmd);
            synchronized (lock) { outstanding++; }
            pending.put(s.n, s);
            try {
                Object p = cmd.get("partition");
                Integer partition = p instanceof Number ? ((Number) p).intValue() : null;
                String key = cmd.get("key") == null ? null : cmd.get("key").toString();
                String value = cmd.get("value") == null ? null : cmd.get("value").toString();
                producer.send(new ProducerRecord<>(str(cmd, "topic", null), partition, key, value), s);
            } catch (Throwable e) {
                // thrown by send() itself: the record is not in the buffer
                s.failure(e, true, true);
            } finally {
                s.inSend = false;
            }
        }

        void flush(long timeoutMs) {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            long left;
            synchronized (lock) {
                while (outstanding > 0 && (left = deadline - System.nanoTime()) > 0) {
                    try {
                        lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                    } catch (InterruptedException e) {
                        break;
                    }
                }
                left = outstanding;
            }
            emit("flushed", "outstanding", left);
        }

        @Override
        public void shutdown() {
            try {
                producer.close(Duration.ofSeconds(1));      // flushes for at most a second
            } catch (Throwable e) {
                log("close: " + e);
            }
            // close() aborted whatever it could not send, with a callback each; anything still
            // without an outcome gets one now (exactly one per send).
            for (Send s : new ArrayList<>(pending.values()))
                s.failure(new IllegalStateException("no outcome before the producer closed"), false, false);
            shutdownComplete();
        }
    }

    // ================================================================ consumer and member
    static final class Consumer implements Driver, ConsumerRebalanceListener {
        final boolean member;
        KafkaConsumer<String, String> consumer;
        final LinkedBlockingQueue<Map<String, Object>> commands = new LinkedBlockingQueue<>();
        volatile boolean shutdownRequested = false;
        Thread loop;
        String mode = "", topic;
        long processMs = 0;
        final Set<TopicPartition> assigned = new HashSet<>();   // consumer role: what we assigned
        // async commits started and not yet completed: their offsets, by start number
        final Map<Long, Map<TopicPartition, OffsetAndMetadata>> asyncPending = new LinkedHashMap<>();
        long asyncSeq = 0;

        Consumer(boolean member) { this.member = member; }

        @Override
        public void start(Map<String, Object> start) {
            Properties props = properties(start, ConsumerConfig.configNames());
            if (props == null) System.exit(0);
            Set<String> known = ConsumerConfig.configNames();
            props.setProperty("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
            props.setProperty("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
            if (!member) {
                // No group: partitions are assigned and read from their beginnings, nothing is
                // committed. The group name only names the client.
                props.setProperty("enable.auto.commit", "false");
                props.setProperty("auto.offset.reset", "earliest");
                if (props.getProperty("client.id") == null && start.get("group") != null)
                    props.setProperty("client.id", str(start, "group", ""));
            } else {
                topic = str(start, "topic", null);
                mode = str(start, "mode", "commit-after-process");
                processMs = num(start, "process_ms", 0);
                String protocol = str(start, "protocol", "classic-eager");
                if (!Arrays.asList("commit-after-process", "commit-async", "auto-commit").contains(mode)) {
                    emit("startup_failed", "message", "unknown mode " + mode, "unsupported", List.of("mode: " + mode));
                    System.exit(0);
                }
                props.setProperty("group.id", str(start, "group", "kch"));
                if (props.getProperty("auto.offset.reset") == null) props.setProperty("auto.offset.reset", "earliest");
                String autoCommit = String.valueOf(mode.equals("auto-commit"));
                if (props.getProperty("enable.auto.commit") != null
                        && !props.getProperty("enable.auto.commit").trim().equalsIgnoreCase(autoCommit))
                    log("enable.auto.commit=" + props.getProperty("enable.auto.commit") + " overridden by mode " + mode);
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
                            emit("startup_failed", "message", "kafka-clients " + AppInfoParser.getVersion()
                                    + " has no group.protocol (KIP-848)", "unsupported", List.of("group.protocol"));
                            System.exit(0);
                        }
                        props.setProperty("group.protocol", "consumer");
                        for (String k : List.of("session.timeout.ms", "heartbeat.interval.ms",
                                "partition.assignment.strategy"))
                            props.remove(k);
                        break;
                    default:
                        emit("startup_failed", "message", "unknown protocol " + protocol, "unsupported",
                                List.of("protocol: " + protocol));
                        System.exit(0);
                }
            }
            try {
                consumer = new KafkaConsumer<>(props);
                if (member) consumer.subscribe(List.of(topic), this);
            } catch (Throwable e) {
                startupFailed(e);
                System.exit(1);
            }
            startupComplete();
            loop = new Thread(this::run, "kch-poll-loop");
            loop.start();
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

        @Override
        public void command(Map<String, Object> cmd) {
            commands.add(cmd);
        }

        @Override
        public void shutdown() {
            shutdownRequested = true;
            commands.add(Map.of("op", "shutdown"));
            try {
                loop.join();
            } catch (InterruptedException ignored) {
            }
            shutdownComplete();
        }

        // -------------------------------------------------- the poll loop (owns the consumer)
        void run() {
            try {
                while (true) {
                    boolean reading = member || !assigned.isEmpty();
                    Map<String, Object> cmd = reading ? commands.poll() : commands.poll(100, TimeUnit.MILLISECONDS);
                    if (cmd != null) {
                        if ("shutdown".equals(cmd.get("op"))) break;
                        handle(cmd);
                        continue;
                    }
                    if (reading) pollOnce();
                }
            } catch (Throwable e) {
                log("poll loop failed: " + e);
                e.printStackTrace(System.err);
                error(null, "poll loop failed: " + e);
            }
            close();
        }

        void handle(Map<String, Object> cmd) {
            String op = (String) cmd.get("op");
            switch (op) {
                case "stall": stall(num(cmd, "ms", 0)); break;
                case "end_offsets": endOffsets(cmd); break;
                case "assign":
                    if (member) error(op, "a member's partitions are assigned by its group");
                    else assign(cmd);
                    break;
                default: error(op, "unknown op for a " + (member ? "member" : "consumer") + ": " + op);
            }
        }

        void stall(long ms) {
            emit("stalled", "ms", ms);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
            long left;
            while (!shutdownRequested && (left = deadline - System.nanoTime()) > 0) {
                try {
                    Thread.sleep(Math.min(50, Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))));
                } catch (InterruptedException e) {
                    break;
                }
            }
            emit("resumed");
        }

        void assign(Map<String, Object> cmd) {
            String t = str(cmd, "topic", null);
            List<TopicPartition> tps = new ArrayList<>();
            for (int p : ints(cmd.get("partitions"))) tps.add(new TopicPartition(t, p));
            try {
                assigned.addAll(tps);
                consumer.assign(new ArrayList<>(assigned));
                consumer.seekToBeginning(tps);
                emit("partitions_assigned", "partitions", tpList(tps));
            } catch (RuntimeException e) {
                assigned.removeAll(tps);
                error("assign", e.getClass().getSimpleName() + ": " + msg(e));
            }
        }

        void endOffsets(Map<String, Object> cmd) {
            String t = str(cmd, "topic", null);
            List<TopicPartition> tps = new ArrayList<>();
            for (int p : ints(cmd.get("partitions"))) tps.add(new TopicPartition(t, p));
            try {
                Map<TopicPartition, Long> ends = consumer.endOffsets(tps, Duration.ofMillis(num(cmd, "timeout_ms", 15000)));
                Map<String, Object> offsets = new LinkedHashMap<>();
                for (TopicPartition tp : tps) offsets.put(Integer.toString(tp.partition()), ends.get(tp));
                emit("end_offsets", "offsets", offsets);
            } catch (RuntimeException e) {
                emit("error", "op", "end_offsets", "exception", e.getClass().getSimpleName(), "message", msg(e));
            }
        }

        void pollOnce() {
            ConsumerRecords<String, String> records;
            try {
                records = consumer.poll(Duration.ofMillis(100));
            } catch (RuntimeException e) {
                if (e.getClass().getSimpleName().equals("WakeupException")) return;
                log("poll: " + e);
                error("poll", e.getClass().getSimpleName() + ": " + msg(e));
                sleep(100);
                return;
            }
            if (records.isEmpty()) return;
            if (member && processMs > 0) sleep(processMs * records.count());   // "processing"
            List<Map<String, Object>> lines = new ArrayList<>(records.count() + 1);
            Map<TopicPartition, long[]> summary = new LinkedHashMap<>();     // count, min, max
            Map<TopicPartition, OffsetAndMetadata> next = new LinkedHashMap<>();
            for (ConsumerRecord<String, String> r : records) {
                Map<String, Object> m = ev("record_data");
                m.put("topic", r.topic());
                m.put("partition", r.partition());
                m.put("offset", r.offset());
                m.put("key", r.key());
                m.put("value", r.value());
                lines.add(m);
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                long[] s = summary.computeIfAbsent(tp, k -> new long[]{0, Long.MAX_VALUE, Long.MIN_VALUE});
                s[0]++;
                s[1] = Math.min(s[1], r.offset());
                s[2] = Math.max(s[2], r.offset());
                next.put(tp, new OffsetAndMetadata(r.offset() + 1, r.leaderEpoch(), ""));
            }
            Map<String, Object> consumed = ev("records_consumed");
            consumed.put("count", records.count());
            List<Map<String, Object>> parts = new ArrayList<>();
            for (Map.Entry<TopicPartition, long[]> e : summary.entrySet()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("topic", e.getKey().topic());
                m.put("partition", e.getKey().partition());
                m.put("count", e.getValue()[0]);
                m.put("minOffset", e.getValue()[1]);
                m.put("maxOffset", e.getValue()[2]);
                parts.add(m);
            }
            consumed.put("partitions", parts);
            lines.add(consumed);
            writeAll(lines);
            if (!member) return;
            if (mode.equals("commit-after-process")) commitSync(next);
            else if (mode.equals("commit-async")) commitAsync(next);
        }

        void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
            emit("offsets_commit_started", "offsets", offsetList(offsets), "async", false);
            try {
                consumer.commitSync(offsets);
                emit("offsets_committed", "offsets", offsetList(offsets), "success", true);
            } catch (RuntimeException e) {
                committedError(offsets, e);
            }
        }

        void committedError(Map<TopicPartition, OffsetAndMetadata> offsets, Exception e) {
            emit("offsets_committed", "offsets", offsetList(offsets), "success", false,
                    "error", e.getClass().getSimpleName() + ": " + msg(e), "definite", matches(e, DEFINITE_COMMIT));
        }

        void commitAsync(Map<TopicPartition, OffsetAndMetadata> offsets) {
            long n = ++asyncSeq;
            asyncPending.put(n, offsets);
            emit("offsets_commit_started", "offsets", offsetList(offsets), "async", true);
            try {
                consumer.commitAsync(offsets, (committed, e) -> {       // runs on this thread
                    if (asyncPending.remove(n) == null) return;
                    if (e == null) emit("offsets_committed", "offsets", offsetList(offsets), "success", true);
                    else committedError(offsets, e);
                });
            } catch (RuntimeException e) {
                if (asyncPending.remove(n) != null) committedError(offsets, e);
            }
        }

        @SuppressWarnings("deprecation")   // close(Duration): kept for older kafka-clients
        void close() {
            try {
                consumer.close(Duration.ofSeconds(20));      // a member leaves its group
            } catch (Throwable e) {
                log("close: " + e);
            }
            // async commits the client never answered: unknown outcome
            for (Map.Entry<Long, Map<TopicPartition, OffsetAndMetadata>> e : new ArrayList<>(asyncPending.entrySet())) {
                asyncPending.remove(e.getKey());
                emit("offsets_committed", "offsets", offsetList(e.getValue()), "success", false,
                        "error", "no result before the consumer closed", "definite", false);
            }
        }

        // -------------------------------------------------- rebalance listener (poll thread)
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            emit("partitions_assigned", "partitions", tpList(partitions));
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            emit("partitions_revoked", "partitions", tpList(partitions));
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            emit("partitions_revoked", "partitions", tpList(partitions), "lost", true);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
        }
    }

    // ================================================================ JSON
    static final class Json {
        static Object parse(String s) {
            Json p = new Json(s);
            p.ws();
            Object v = p.value();
            p.ws();
            if (p.i != s.length()) throw p.fail("trailing characters");
            return v;
        }

        final String s;
        int i = 0;

        Json(String s) { this.s = s; }

        RuntimeException fail(String what) {
            return new IllegalArgumentException("JSON: " + what + " at " + i);
        }

        void ws() {
            while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++;
        }

        Object value() {
            if (i >= s.length()) throw fail("unexpected end");
            char c = s.charAt(i);
            switch (c) {
                case '{': return object();
                case '[': return array();
                case '"': return string();
                case 't': return lit("true", Boolean.TRUE);
                case 'f': return lit("false", Boolean.FALSE);
                case 'n': return lit("null", null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return number();
                    throw fail("unexpected '" + c + "'");
            }
        }

        Object lit(String word, Object v) {
            if (!s.startsWith(word, i)) throw fail("bad literal");
            i += word.length();
            return v;
        }

        Map<String, Object> object() {
            Map<String, Object> m = new LinkedHashMap<>();
            i++;
            ws();
            if (i < s.length() && s.charAt(i) == '}') { i++; return m; }
            while (true) {
                ws();
                if (i >= s.length() || s.charAt(i) != '"') throw fail("expected a key");
                String k = string();
                ws();
                if (i >= s.length() || s.charAt(i) != ':') throw fail("expected ':'");
                i++;
                ws();
                m.put(k, value());
                ws();
                if (i >= s.length()) throw fail("unexpected end");
                char c = s.charAt(i++);
                if (c == '}') return m;
                if (c != ',') throw fail("expected ',' or '}'");
            }
        }

        List<Object> array() {
            List<Object> a = new ArrayList<>();
            i++;
            ws();
            if (i < s.length() && s.charAt(i) == ']') { i++; return a; }
            while (true) {
                ws();
                a.add(value());
                ws();
                if (i >= s.length()) throw fail("unexpected end");
                char c = s.charAt(i++);
                if (c == ']') return a;
                if (c != ',') throw fail("expected ',' or ']'");
            }
        }

        String string() {
            i++;
            StringBuilder b = new StringBuilder();
            while (true) {
                if (i >= s.length()) throw fail("unterminated string");
                char c = s.charAt(i++);
                if (c == '"') return b.toString();
                if (c != '\\') { b.append(c); continue; }
                if (i >= s.length()) throw fail("bad escape");
                char e = s.charAt(i++);
                switch (e) {
                    case '"': b.append('"'); break;
                    case '\\': b.append('\\'); break;
                    case '/': b.append('/'); break;
                    case 'b': b.append('\b'); break;
                    case 'f': b.append('\f'); break;
                    case 'n': b.append('\n'); break;
                    case 'r': b.append('\r'); break;
                    case 't': b.append('\t'); break;
                    case 'u':
                        if (i + 4 > s.length()) throw fail("bad \\u escape");
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                        break;
                    default: throw fail("bad escape");
                }
            }
        }

        Object number() {
            int st = i;
            if (s.charAt(i) == '-') i++;
            boolean frac = false;
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c >= '0' && c <= '9') i++;
                else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') { frac = true; i++; }
                else break;
            }
            String t = s.substring(st, i);
            try {
                if (!frac) {
                    try { return Long.parseLong(t); } catch (NumberFormatException big) { return new java.math.BigInteger(t); }
                }
                return Double.parseDouble(t);
            } catch (NumberFormatException e) {
                throw fail("bad number " + t);
            }
        }

        static String write(Object v) {
            StringBuilder b = new StringBuilder(128);
            write(b, v);
            return b.toString();
        }

        static void write(StringBuilder b, Object v) {
            if (v == null) b.append("null");
            else if (v instanceof String) str(b, (String) v);
            else if (v instanceof Boolean || v instanceof Long || v instanceof Integer
                    || v instanceof java.math.BigInteger) b.append(v);
            else if (v instanceof Number) {
                double d = ((Number) v).doubleValue();
                b.append(Double.isFinite(d) ? Double.toString(d) : "null");
            } else if (v instanceof Map) {
                b.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    if (!first) b.append(',');
                    first = false;
                    str(b, String.valueOf(e.getKey()));
                    b.append(':');
                    write(b, e.getValue());
                }
                b.append('}');
            } else if (v instanceof Collection) {
                b.append('[');
                boolean first = true;
                for (Object o : (Collection<?>) v) {
                    if (!first) b.append(',');
                    first = false;
                    write(b, o);
                }
                b.append(']');
            } else str(b, v.toString());
        }

        /** ASCII-only output: everything outside printable ASCII as \\uXXXX (exact round trip,
         *  lone surrogates included). */
        static void str(StringBuilder b, String s) {
            b.append('"');
            for (int k = 0; k < s.length(); k++) {
                char c = s.charAt(k);
                if (c == '"') b.append("\\\"");
                else if (c == '\\') b.append("\\\\");
                else if (c == '\n') b.append("\\n");
                else if (c == '\r') b.append("\\r");
                else if (c == '\t') b.append("\\t");
                else if (c < 0x20 || c > 0x7e) {
                    b.append("\\u");
                    String h = Integer.toHexString(c);
                    for (int z = h.length(); z < 4; z++) b.append('0');
                    b.append(h);
                } else b.append(c);
            }
            b.append('"');
        }
    }
}
