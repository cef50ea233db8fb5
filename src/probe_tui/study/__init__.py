"""Studies: a whole experiment in one YAML file (models × instruments × languages × personas × order,
and country sweeps), checked with file:line errors, run resumably through the one job runner, with
one tidy Parquet, long-format scores, figures and a self-contained HTML report in a study folder.

- spec.py: reading and checking the study file;
- matrix.py: the matrix expanded into the runner's jobs, one list per model;
- backends.py: each model entry's backend (local GGUF, remote API, named endpoint(s));
- run.py: `study check` and `study run` (journal, progress, results);
- results.py: the Parquet, the scores and the figures; report.py: the HTML report;
- session.py: a study's answers as an app session (`probe-tui --study FILE`)."""
