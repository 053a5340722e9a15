// The member role: a consumer-group member subscribed to one topic, reporting its rebalance
// callbacks; after each batch it "processes" (sleeps process_ms per record) and commits as its
// mode says: commit-after-process (sync), commit-async, or auto-commit (the client's own).

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

final class MemberRole extends PollLoop implements ConsumerRebalanceListener {
    // Commit errors after which the commit certainly did not apply (the coordinator rejected
    // the request, or the client refused to send it).
    static final Set<String> DEFINITE_COMMIT = new HashSet<>(Arrays.asList(
            "CommitFailedException", "RebalanceInProgressException", "FencedInstanceIdException",
            "UnknownMemberIdException", "IllegalGenerationException", "StaleMemberEpochException",
            "GroupAuthorizationException", "TopicAuthorizationException", "OffsetMetadataTooLarge",
            "InvalidCommitOffsetSizeException"));

    String mode = "", topic;
    long processMs = 0;
    // async commits started and not yet completed: their offsets, by start number
    final Map<Long, Map<TopicPartition, OffsetAndMetadata>> asyncPending = new LinkedHashMap<>();
    long asyncSeq = 0;

    MemberRole() { super("member"); }

    @Override
    Properties configure(Map<String, Object> start) {
        Properties props = Config.consumer(start);
        if (props == null) return null;
        topic = Cmd.str(start, "topic", null);
        mode = Cmd.str(start, "mode", "commit-after-process");
        processMs = Cmd.num(start, "process_ms", 0);
        return Config.member(props, start);
    }

    @Override
    void subscribe() {
        consumer.subscribe(List.of(topic), this);
    }

    @Override
    boolean reading() {
        return true;
    }

    @Override
    void other(String op, Map<String, Object> cmd) {
        if (op.equals("assign")) Out.error(op, "a member's partitions are assigned by its group");
        else if (op.equals("pause_partitions")) pausePartitions(Cmd.num(cmd, "ms", 0));
        else if (op.equals("resubscribe")) resubscribe();
        else super.other(op, cmd);
    }

    // -------------------------------------------------- pause_partitions, resubscribe
    final Set<TopicPartition> paused = new HashSet<>();     // paused by pause_partitions
    boolean pausing = false;
    long pauseUntil = 0;                                    // System.nanoTime()

    /** Pauses every partition owned now for `ms`, polling on (a pause under way is extended). */
    void pausePartitions(long ms) {
        Set<TopicPartition> owned = consumer.assignment();
        try {
            consumer.pause(owned);
        } catch (RuntimeException e) {
            Out.error("pause_partitions", e.getClass().getSimpleName() + ": " + Out.msg(e));
            return;
        }
        paused.addAll(owned);
        long until = System.nanoTime() + ms * 1_000_000L;
        pauseUntil = pausing && pauseUntil - until > 0 ? pauseUntil : until;
        pausing = true;
        Out.emit("partitions_paused", "partitions", Out.tpList(owned), "ms", ms);
    }

    @Override
    void tick() {
        if (!pausing || System.nanoTime() - pauseUntil < 0) return;
        List<TopicPartition> back = new ArrayList<>(paused);
        back.retainAll(consumer.assignment());               // revoked meanwhile: forgotten
        paused.clear();
        pausing = false;
        try {
            consumer.resume(back);
        } catch (RuntimeException e) {
            Out.error("pause_partitions", e.getClass().getSimpleName() + ": " + Out.msg(e));
        }
        Out.emit("partitions_resumed", "partitions", Out.tpList(back));
    }

    /** A subscription change: unsubscribe (the listener hears the revocation) and subscribe
     *  to the topic again (the next poll rejoins). */
    void resubscribe() {
        try {
            consumer.unsubscribe();
            consumer.subscribe(List.of(topic), this);
            Out.emit("resubscribed");
        } catch (RuntimeException e) {
            Out.error("resubscribe", e.getClass().getSimpleName() + ": " + Out.msg(e));
        }
    }

    @Override
    void process(int count) {
        if (processMs > 0) sleep(processMs * count);   // "processing"
    }

    @Override
    void afterBatch(Map<TopicPartition, OffsetAndMetadata> next) {
        if (mode.equals("commit-after-process")) commitSync(next);
        else if (mode.equals("commit-async")) commitAsync(next);
    }

    void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
        Out.emit("offsets_commit_started", "offsets", Out.offsetList(offsets), "async", false);
        try {
            consumer.commitSync(offsets);
            Out.emit("offsets_committed", "offsets", Out.offsetList(offsets), "success", true);
        } catch (RuntimeException e) {
            committedError(offsets, e);
        }
    }

    void committedError(Map<TopicPartition, OffsetAndMetadata> offsets, Exception e) {
        Out.emit("offsets_committed", "offsets", Out.offsetList(offsets), "success", false,
                "error", e.getClass().getSimpleName() + ": " + Out.msg(e), "definite", Out.matches(e, DEFINITE_COMMIT));
    }

    void commitAsync(Map<TopicPartition, OffsetAndMetadata> offsets) {
        long n = ++asyncSeq;
        asyncPending.put(n, offsets);
        Out.emit("offsets_commit_started", "offsets", Out.offsetList(offsets), "async", true);
        try {
            consumer.commitAsync(offsets, (committed, e) -> {       // runs on this thread
                if (asyncPending.remove(n) == null) return;
                if (e == null) Out.emit("offsets_committed", "offsets", Out.offsetList(offsets), "success", true);
                else committedError(offsets, e);
            });
        } catch (RuntimeException e) {
            if (asyncPending.remove(n) != null) committedError(offsets, e);
        }
    }

    @Override
    void afterClose() {
        // async commits the client never answered: unknown outcome
        for (Map.Entry<Long, Map<TopicPartition, OffsetAndMetadata>> e : new ArrayList<>(asyncPending.entrySet())) {
            asyncPending.remove(e.getKey());
            Out.emit("offsets_committed", "offsets", Out.offsetList(e.getValue()), "success", false,
                    "error", "no result before the consumer closed", "definite", false);
        }
    }

    // -------------------------------------------------- rebalance listener (poll thread)
    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        Out.emit("partitions_assigned", "partitions", Out.tpList(partitions));
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        Out.emit("partitions_revoked", "partitions", Out.tpList(partitions));
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
        Out.emit("partitions_revoked", "partitions", Out.tpList(partitions), "lost", true);
    }
}
