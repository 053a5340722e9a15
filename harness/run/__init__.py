"""Running: a Plan on a cluster, recorded into one History.

:mod:`.example` runs one example (topic, readers, timeline, producers, heal, drain);
:mod:`.timeline` schedules its faults and reader actions; :mod:`.faults` turns planned faults
into nemesis faults; :mod:`.roles` are producers, assigned consumers and the drain;
:mod:`.group` and :mod:`.settle` are a consumer group's members and its stability;
:mod:`.conformance` explores specs and judges examples; :mod:`.pool` keeps the cluster and
the session's logs; :mod:`.replay` runs a counterexample again.
"""
