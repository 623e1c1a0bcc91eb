"""Mode-neutral helpers every stage uses: files, logs, provenance, tables, statistics, steps."""
