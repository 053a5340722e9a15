"""Judging: checker results against a spec's expectations (:mod:`.verdict`), and the results
of examples, specs and runs that reporters render (:mod:`.results`)."""
