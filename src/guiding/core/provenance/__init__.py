"""What every output was made from, in one place.

- ``lineage``: the record each job writes beside its outputs (inputs with their producers, code,
  packages, machine, the LLM requests it sent), under ``results/provenance/``;
- ``sidecar``: a table's ``<table>.provenance.json`` beside it (the config sections it rests on,
  its inputs' hashes, code and packages), written by the table's own job;
- ``audit``: ``guiding audit``, a table's lineage walked back to the sources and re-hashed;
- ``crate``: ``guiding crate``, a checked lineage as a Workflow Run RO-Crate.
"""
