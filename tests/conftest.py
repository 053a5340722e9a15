import logging

# librdkafka's log lines go to this logger (see harness.run.pool.CLIENT_LOG); keep them out of CI logs.
logging.getLogger("kch.client").setLevel(logging.CRITICAL)
