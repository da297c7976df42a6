"""One benchmark harness with one report: `python -m benchmarks.harness [--quick]`.

It starts the embedded platform itself, runs the speed sections (each next to its raw
baseline measured in the same run) and the learning-quality section on a BEIR-format
dataset, and writes `benchmarks/results/<date>/` (report.md, figures.json, PNG plots)."""
