"""The benchmark harness: seeded comparisons of learned and rule-based policies.

- ``spec``: the benchmark config (``experiments/benchmarks/<name>.toml``), validated.
- ``cells``: one unit of work (scenario x policy x training seed), its fingerprint (values,
  the code it runs, library versions) and its atomic store; ``runners``: how each kind of
  cell runs; ``provenance``: the static import graph behind the fingerprint's code part;
  ``traces``: a cell's results as JSON-ready rows and daily traces.
- ``executors``: run cells in-process, on a local process pool, or as Ray tasks.
- ``stats``: means, the one hierarchical bootstrap behind every CI (training seeds, then
  episodes), IQM, paired differences, probability of improvement, normalized scores;
  ``aggregate``: IQM, probability of improvement and performance profiles across scenarios.
- ``tables`` / ``plots``: CSV, Markdown and LaTeX tables; seaborn figures (PNG and PDF).
- ``clairvoyant``: the perfect-information MILP bound on cost.
- ``transfer`` / ``generalization``: learners run on scenarios they were not trained on
  (the rows, and their table).

Every learner cell runs through :mod:`hmarl_bench.learn.registry` (by name or import path).

Modules are imported on use so that the harness works without the optional ones.
"""
