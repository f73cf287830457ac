"""mypy on a baseline that only shrinks.

`python .ci/mypy_baseline.py` runs mypy (configured in pyproject.toml) and compares its errors,
counted per file and error code, with mypy-baseline.json: more than the baseline in any file
fails; fewer passes and asks to run `python .ci/mypy_baseline.py --update`, which writes the
smaller counts, so a fixed error can never come back unnoticed. A new file starts at zero.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "mypy-baseline.json"
ERROR = re.compile(r"^(?P<file>[^:]+):\d+(?::\d+)?: error: .*\[(?P<code>[a-z0-9-]+)\]$")


def current() -> tuple[Counter, str]:
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-pretty", "--no-error-summary"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode not in (0, 1):
        sys.exit(f"mypy did not run:\n{run.stdout}{run.stderr}")
    counts: Counter = Counter()
    for line in run.stdout.splitlines():
        if found := ERROR.match(line):
            counts[f"{found['file']} [{found['code']}]"] += 1
    return counts, run.stdout


def main() -> int:
    counts, output = current()
    if "--update" in sys.argv:
        BASELINE.write_text(json.dumps(dict(sorted(counts.items())), indent=1) + "\n")
        print(f"mypy baseline: {sum(counts.values())} errors in {len(counts)} file/code pairs")
        return 0
    baseline = Counter(json.loads(BASELINE.read_text()))
    grown = {key: (baseline[key], n) for key, n in counts.items() if n > baseline[key]}
    if grown:
        print(output)
        for key, (was, now) in sorted(grown.items()):
            print(f"mypy: {key}: {now} errors, the baseline allows {was}")
        return 1
    if counts != baseline:
        print(
            f"mypy: {sum(baseline.values()) - sum(counts.values())} fewer errors than the "
            "baseline; run `python .ci/mypy_baseline.py --update` and commit mypy-baseline.json"
        )
        return 1
    print(f"mypy: {sum(counts.values())} known errors, none new")
    return 0


if __name__ == "__main__":
    sys.exit(main())
