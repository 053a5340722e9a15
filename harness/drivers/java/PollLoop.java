// What the consumer and member roles share: a poll loop thread that owns the KafkaConsumer
// (it is not thread-safe) and takes commands from a queue filled by the stdin thread; stall,
// end_offsets, and each batch written as verifiable clients do (record_data lines, then
// records_consumed). ConsumerRole and MemberRole fill in the rest through the hooks below.

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

abstract class PollLoop implements Role {
    final String kind;                                    // "consumer" or "member", for errors
    KafkaConsumer<String, String> consumer;
    final LinkedBlockingQueue<Map<String, Object>> commands = new LinkedBlockingQueue<>();
    volatile boolean shutdownRequested = false;
    Thread loop;

    PollLoop(String kind) { this.kind = kind; }

    // -------------------------------------------------- hooks
    /** The client's properties from the start command; null after startup_failed. */
    abstract Properties configure(Map<String, Object> start);

    /** Right after the consumer exists (a failure is startup_failed). */
    void subscribe() {}

    /** Whether to poll now; if not, the loop waits for a command. */
    abstract boolean reading();

    /** A command neither stall nor end_offsets. */
    void other(String op, Map<String, Object> cmd) {
        Out.error(op, "unknown op for a " + kind + ": " + op);
    }

    /** After a poll returned `count` records, before the batch is written. */
    void process(int count) {}

    /** After the batch is written; `next` holds each partition's offset after its last record. */
    void afterBatch(Map<TopicPartition, OffsetAndMetadata> next) {}

    /** After the consumer is closed. */
    void afterClose() {}

    /** At each turn of the loop, before it takes a command or polls. */
    void tick() {}

    // -------------------------------------------------- the stdin thread
    @Override
    public void start(Map<String, Object> start) {
        Properties props = configure(start);
        if (props == null) System.exit(0);
        try {
            consumer = new KafkaConsumer<>(props);
            subscribe();
        } catch (Throwable e) {
            Out.startupFailed(e);
            System.exit(1);
        }
        Out.startupComplete();
        loop = new Thread(this::run, "kch-poll-loop");
        loop.start();
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
        Out.shutdownComplete();
    }

    // -------------------------------------------------- the poll loop (owns the consumer)
    void run() {
        try {
            while (true) {
                tick();
                boolean reading = reading();
                Map<String, Object> cmd = reading ? commands.poll() : commands.poll(100, TimeUnit.MILLISECONDS);
                if (cmd != null) {
                    if ("shutdown".equals(cmd.get("op"))) break;
                    handle(cmd);
                    continue;
                }
                if (reading) pollOnce();
            }
        } catch (Throwable e) {
            Out.log("poll loop failed: " + e);
            e.printStackTrace(System.err);
            Out.error(null, "poll loop failed: " + e);
        }
        close();
    }

    void handle(Map<String, Object> cmd) {
        String op = (String) cmd.get("op");
        switch (op) {
            case "stall": stall(Cmd.num(cmd, "ms", 0)); break;
            case "end_offsets": endOffsets(cmd); break;
            default: other(op, cmd);
        }
    }

    void stall(long ms) {
        Out.emit("stalled", "ms", ms);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        long left;
        while (!shutdownRequested && (left = deadline - System.nanoTime()) > 0) {
            try {
                Thread.sleep(Math.min(50, Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))));
            } catch (InterruptedException e) {
                break;
            }
        }
        Out.emit("resumed");
    }

    void endOffsets(Map<String, Object> cmd) {
        String t = Cmd.str(cmd, "topic", null);
        List<TopicPartition> tps = new ArrayList<>();
        for (int p : Cmd.ints(cmd.get("partitions"))) tps.add(new TopicPartition(t, p));
        try {
            Map<TopicPartition, Long> ends = consumer.endOffsets(tps, Duration.ofMillis(Cmd.num(cmd, "timeout_ms", 15000)));
            Map<String, Object> offsets = new LinkedHashMap<>();
            for (TopicPartition tp : tps) offsets.put(Integer.toString(tp.partition()), ends.get(tp));
            Out.emit("end_offsets", "offsets", offsets);
        } catch (RuntimeException e) {
            Out.emit("error", "op", "end_offsets", "exception", e.getClass().getSimpleName(), "message", Out.msg(e));
        }
    }

    void pollOnce() {
        ConsumerRecords<String, String> records;
        try {
            records = consumer.poll(Duration.ofMillis(100));
        } catch (RuntimeException e) {
            if (e.getClass().getSimpleName().equals("WakeupException")) return;
            Out.log("poll: " + e);
            Out.error("poll", e.getClass().getSimpleName() + ": " + Out.msg(e));
            sleep(100);
            return;
        }
        if (records.isEmpty()) return;
        process(records.count());
        List<Map<String, Object>> lines = new ArrayList<>(records.count() + 1);
        Map<TopicPartition, long[]> summary = new LinkedHashMap<>();     // count, min, max
        Map<TopicPartition, OffsetAndMetadata> next = new LinkedHashMap<>();
        for (ConsumerRecord<String, String> r : records) {
            Map<String, Object> m = Out.ev("record_data");
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
        Map<String, Object> consumed = Out.ev("records_consumed");
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
        Out.writeAll(lines);
        afterBatch(next);
    }

    @SuppressWarnings("deprecation")   // close(Duration): kept for older kafka-clients
    void close() {
        try {
            consumer.close(Duration.ofSeconds(20));      // a member leaves its group
        } catch (Throwable e) {
            Out.log("close: " + e);
        }
        afterClose();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
        }
    }
}
