"""Reports: data tables (sets, teachers) and result tables and figures, each with provenance."""
