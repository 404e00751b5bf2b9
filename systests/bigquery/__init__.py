"""google-cloud-bigquery's own system tests, run against the emulator (see ``run.py``)."""
