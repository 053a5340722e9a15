// The producer role: send and flush, driven from the stdin thread (a send blocks at most
// max.block.ms). Every send gets exactly one outcome, producer_send_success or
// producer_send_error, with its id.

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

final class ProducerRole implements Role {
    // Send errors after which the record was certainly not appended (matched by simple class
    // name on the exception's class and its superclasses, so older clients need not have them).
    static final Set<String> DEFINITE_SEND = new HashSet<>(Arrays.asList(
            "RecordTooLargeException", "RecordBatchTooLargeException", "NotEnoughReplicasException",
            "InvalidRecordException", "InvalidTopicException", "TopicAuthorizationException",
            "ClusterAuthorizationException", "SerializationException"));

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
                failure(e, sync || Out.matches(e, DEFINITE_SEND), sync);
            }
        }

        void success(RecordMetadata md) {
            if (!done.compareAndSet(false, true)) return;
            Map<String, Object> m = Out.ev("producer_send_success");
            m.put("id", cmd.get("id"));
            m.put("topic", md.topic());
            m.put("partition", md.partition());
            m.put("offset", md.hasOffset() ? md.offset() : -1L);
            m.put("key", cmd.get("key"));
            m.put("value", cmd.get("value"));
            Out.write(m);
            release();
        }

        void failure(Throwable e, boolean definite, boolean sync) {
            if (!done.compareAndSet(false, true)) return;
            Map<String, Object> m = Out.ev("producer_send_error");
            m.put("id", cmd.get("id"));
            m.put("topic", cmd.get("topic"));
            m.put("key", cmd.get("key"));
            m.put("value", cmd.get("value"));
            m.put("exception", e.getClass().getSimpleName());
            m.put("message", Out.msg(e));
            m.put("definite", definite);
            if (sync) m.put("sync", true);
            Out.write(m);
            release();
        }

        /** Counted as resolved only once its outcome is written, so `flushed` comes after it. */
        void release() {
            pending.remove(n);
            synchronized (lock) {
                if (--outstanding == 0) lock.notifyAll();
            }
        }
    }

    @Override
    public void start(Map<String, Object> start) {
        Properties props = Config.producer(start);
        if (props == null) System.exit(0);
        try {
            Config.raiseDeliveryTimeout(props);
            producer = new KafkaProducer<>(props);
        } catch (Throwable e) {
            Out.startupFailed(e);
            System.exit(1);
        }
        Out.startupComplete();
    }

    @Override
    public void command(Map<String, Object> cmd) {
        String op = (String) cmd.get("op");
        switch (op) {
            case "send": send(cmd); break;
            case "flush": flush(Cmd.num(cmd, "timeout_ms", 30000)); break;
            default: Out.error(op, "unknown op for a producer: " + op);
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
            producer.send(new ProducerRecord<>(Cmd.str(cmd, "topic", null), partition, key, value), s);
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
        Out.emit("flushed", "outstanding", left);
    }

    @Override
    public void shutdown() {
        try {
            producer.close(Duration.ofSeconds(1));      // flushes for at most a second
        } catch (Throwable e) {
            Out.log("close: " + e);
        }
        // close() aborted whatever it could not send, with a callback each; anything still
        // without an outcome gets one now (exactly one per send).
        for (Send s : new ArrayList<>(pending.values()))
            s.failure(new IllegalStateException("no outcome before the producer closed"), false, false);
        Out.shutdownComplete();
    }
}
