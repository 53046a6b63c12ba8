"""The input files read and validated (config, chunks, issues, cadence)."""
