"""Run ferronet's benchmark suite and save benches/results/latest.{json,md}.

Usage: PYTHONPATH=python .venv/bin/python benches/run.py [--quick] [--threads 1,2] [--no-torch]
(the same options as ``ferronet bench``; --json / --markdown override the output paths).
"""

from __future__ import annotations

import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    from ferronet.cli import main as cli_main

    args = list(sys.argv[1:] if argv is None else argv)
    if "--json" not in args:
        args += ["--json", str(RESULTS / "latest.json")]
    if "--markdown" not in args:
        args += ["--markdown", str(RESULTS / "latest.md")]
    return cli_main(["bench", *args])


if __name__ == "__main__":
    sys.exit(main())
