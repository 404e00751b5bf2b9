"""BigQuery stand-in: DuckDB catalog and jobs (backend), GoogleSQL translation, REST adapter."""
