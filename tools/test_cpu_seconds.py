"""Write tests/cpu_seconds.json from a CPU log of the whole suite.

    CVSEQ_TEST_CPU_LOG=/tmp/cpu.jsonl python -m pytest -q -n 3 --dist worksteal
    python tools/test_cpu_seconds.py /tmp/cpu.jsonl

tests/conftest.py orders the tests by these figures so that every xdist
worker gets the same CPU and starts with its longest tests. Tests under
0.5 CPU-s are left out (they weigh 0.2 s there; an unlisted slow test 60).
"""

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(log):
    seconds = {}
    with open(log) as f:
        for line in f:
            record = json.loads(line)
            if record["cpu_s"] >= 0.5:
                seconds[record["test"]] = round(record["cpu_s"], 1)
    ordered = dict(sorted(seconds.items(), key=lambda kv: (-kv[1], kv[0])))
    with open(os.path.join(ROOT, "tests", "cpu_seconds.json"), "w") as f:
        json.dump(ordered, f, indent=1)
        f.write("\n")
    print(f"{len(ordered)} tests, {sum(ordered.values()):.0f} CPU-s")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
