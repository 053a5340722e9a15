// What a role (producer, consumer, member) does with the commands kch sends it.

import java.util.Map;

interface Role {
    void start(Map<String, Object> start);       // startup_complete or startup_failed (+exit)
    void command(Map<String, Object> cmd);       // called on the stdin thread
    void shutdown();                              // close, shutdown_complete, exit 0
}
