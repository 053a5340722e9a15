// The consumer role: partitions assigned by kch (no group, no commits), each read from its
// beginning or from the offset the assign command gives; pause and resume of assigned
// partitions (KafkaConsumer.pause/resume). It polls only once something is assigned.

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import org.apache.kafka.common.TopicPartition;

final class ConsumerRole extends PollLoop {
    final Set<TopicPartition> assigned = new HashSet<>();   // what we assigned (poll thread)

    ConsumerRole() { super("consumer"); }

    @Override
    Properties configure(Map<String, Object> start) {
        Properties props = Config.consumer(start);
        return props == null ? null : Config.assigned(props, start);
    }

    @Override
    boolean reading() {
        return !assigned.isEmpty();
    }

    @Override
    void other(String op, Map<String, Object> cmd) {
        if (op.equals("assign")) assign(cmd);
        else if (op.equals("pause") || op.equals("resume")) pauseResume(op, cmd);
        else super.other(op, cmd);
    }

    static List<TopicPartition> partitions(Map<String, Object> cmd) {
        String t = Cmd.str(cmd, "topic", null);
        List<TopicPartition> tps = new ArrayList<>();
        for (int p : Cmd.ints(cmd.get("partitions"))) tps.add(new TopicPartition(t, p));
        return tps;
    }

    /** Replaces the assignment: each partition from its offset in "offsets", else from its
     *  beginning; none of them paused. */
    void assign(Map<String, Object> cmd) {
        List<TopicPartition> tps = partitions(cmd);
        try {
            Map<Integer, Long> offsets = Cmd.offsets(cmd.get("offsets"));
            consumer.assign(tps);
            consumer.resume(tps);                 // a partition paused before stays paused
            List<TopicPartition> fromStart = new ArrayList<>();
            for (TopicPartition tp : tps) {
                Long o = offsets.get(tp.partition());
                if (o != null) consumer.seek(tp, o);
                else fromStart.add(tp);
            }
            if (!fromStart.isEmpty()) consumer.seekToBeginning(fromStart);
            assigned.clear();
            assigned.addAll(tps);
            Out.emit("partitions_assigned", "partitions", Out.tpList(tps));
        } catch (RuntimeException e) {
            assigned.clear();
            assigned.addAll(consumer.assignment());
            Out.error("assign", e.getClass().getSimpleName() + ": " + Out.msg(e));
        }
    }

    void pauseResume(String op, Map<String, Object> cmd) {
        List<TopicPartition> tps = partitions(cmd);
        if (!assigned.containsAll(tps)) {
            Out.error(op, op + ": not every partition of " + tps + " is assigned");
            return;
        }
        try {
            if (op.equals("pause")) consumer.pause(tps);
            else consumer.resume(tps);
            Out.emit(op.equals("pause") ? "partitions_paused" : "partitions_resumed", "partitions", Out.tpList(tps));
        } catch (RuntimeException e) {
            Out.error(op, e.getClass().getSimpleName() + ": " + Out.msg(e));
        }
    }
}
