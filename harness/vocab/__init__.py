"""The vocabulary of kch, each word defined once: anomalies, fault kinds, toxics and their
attributes, cuts, targets, reader actions and client config keys. A leaf package: it imports
nothing from the rest of the harness, and the spec model, the checkers and the faults import it.
"""
