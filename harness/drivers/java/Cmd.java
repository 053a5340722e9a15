// Commands: one JSON object with an "op" a line on stdin, and their fields.

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

final class Cmd {
    /** The line as a command, or null (logged, and answered with an error if `report`) if it
     *  is blank or not a command object. */
    static Map<String, Object> parse(String line, boolean report) {
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
            Out.log("bad command line: " + line + ": " + e);
            if (report) Out.error(null, "bad command: " + Out.msg(e));
            return null;
        }
    }

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

    /** An object of partition numbers (as strings) to offsets: {"0": 12}. */
    static Map<Integer, Long> offsets(Object v) {
        Map<Integer, Long> r = new HashMap<>();
        if (v instanceof Map)
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet())
                r.put(Integer.parseInt(e.getKey().toString()), ((Number) e.getValue()).longValue());
        return r;
    }

    static List<Integer> ints(Object v) {
        List<Integer> r = new ArrayList<>();
        if (v instanceof List) for (Object o : (List<?>) v) r.add(((Number) o).intValue());
        return r;
    }
}
