"""`probe-tui study check|run|report FILE`: the CLI's one entry into studies."""

from __future__ import annotations

import sys

from .spec import load_study


def study_command(args) -> int:
    study = load_study(args.file)
    if args.action == "check":
        from .run import check_study

        return check_study(study)
    if args.action == "run":
        from .run import run_study

        return run_study(study)
    from .report import write_report

    print(f"wrote {write_report(study, args.output)}", file=sys.stderr)
    return 0
