// The consumer role: partitions assigned by kch (no group, no commits), each read from its
// beginning. It polls only once something is assigned.

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
        else super.other(op, cmd);
    }

    void assign(Map<String, Object> cmd) {
        String t = Cmd.str(cmd, "topic", null);
        List<TopicPartition> tps = new ArrayList<>();
        for (int p : Cmd.ints(cmd.get("partitions"))) tps.add(new TopicPartition(t, p));
        try {
            assigned.addAll(tps);
            consumer.assign(new ArrayList<>(assigned));
            consumer.seekToBeginning(tps);
            Out.emit("partitions_assigned", "partitions", Out.tpList(tps));
        } catch (RuntimeException e) {
            assigned.removeAll(tps);
            Out.error("assign", e.getClass().getSimpleName() + ": " + Out.msg(e));
        }
    }
}
