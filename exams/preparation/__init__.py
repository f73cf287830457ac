"""Writes on what a school prepares before the day, one module per kind of work.

- `rules`: the rules as reads (enrolled, exempt, started, who may proctor, adjustments and tools
  that apply); pure reads that selectors, readiness and delivery may import.
- `common`: `ExamRefused`, `BulkSummary` and the checks every service makes first.
- `assignments`: registrations, automatic and manual assignment, corrections, moves between units.
- `versions`: preparations follow a new version of a test.
- `rooms`: the unit's rooms.
- `sittings`: sittings, postponements, paper replacement tests, readiness ticks.
- `decisions`: adjustments, their lock at the start, exemptions.

Every service is one transaction, audits what it changes and takes keyword arguments only. The
caller (a view or API) has already resolved the school unit with the right capability; services
still check that every object they are given belongs to that unit and that the rules hold, and
raise `ExamRefused` with a short, specific reason when they do not. The import contracts in
pyproject.toml keep the direction: the writing modules import `rules` and `common`, never each
other, and no selector imports a writing module.
"""
