"""`probe-tui baselines`: list the group baselines in the data directory, build one from survey
microdata (core/microdata.py) or import GlobalOpinionQA (core/goqa.py). A thin CLI layer."""

from __future__ import annotations

import sys

from .core.text import printable as terminal_safe


def add_parser(commands) -> None:
    baselines = commands.add_parser("baselines", help="group baselines: list them, build one from survey microdata, import GlobalOpinionQA")
    baselines.commands = actions = baselines.add_subparsers(dest="baselines_action", metavar="{list,build,import-goqa}")
    actions.add_parser("list", help="the baselines in the data directory, with their source and coverage (the default)")
    build = actions.add_parser("build", help="group baselines from WVS-7 / EVS / IVS microdata (CSV, .sav, .dta) you have")
    build.add_argument("file", help="the microdata file")
    build.add_argument("--by", default="country", help="the groups: attributes of the persona composer, e.g. country,sex,age "
                       "(ATTRIBUTE=VARIABLE names the survey variable; default: country)")
    build.add_argument("--items", default="Q177-Q195", help="item codes (ranges allowed); CODE=VARIABLE where the file names it otherwise (default: Q177-Q195)")
    build.add_argument("--weight", help="the weight variable, e.g. W_WEIGHT (default: unweighted)")
    build.add_argument("--min-n", type=int, default=30, help="leave out groups with fewer respondents (default 30)")
    build.add_argument("--name", help="the baseline's name (default: the file's stem)")
    build.add_argument("--wave", help="the wave, for the provenance (default: read from A_WAVE / S002VS where the file has it)")
    build.add_argument("--instrument", help="the instrument whose items the codes are (default: the one that has them)")
    goqa = actions.add_parser("import-goqa", help="per-country distributions from GlobalOpinionQA's CSV, for the WVS items probe-tui holds")
    goqa.add_argument("file", help="GlobalOpinionQA's CSV (question, selections, options, source)")
    goqa.add_argument("--instrument", help="the instrument to match questions to (default: the one "
                      "assets/baselines/globalopinionqa_items.yaml has a block for)")
    goqa.add_argument("--name", default="goqa", help="the baseline's name (default: goqa)")


def baselines_command(args) -> int:
    action = getattr(args, "baselines_action", None) or "list"
    if action == "build":
        return _build(args)
    if action == "import-goqa":
        return _import_goqa(args)
    return _list()


def _say(text: str) -> None:
    print(terminal_safe(text), file=sys.stderr)


def _build(args) -> int:
    from pathlib import Path

    from rich.console import Console

    from .core.errors import ProbeError
    from .core.microdata import build_baseline, parse_by, parse_items
    from .progress import progress_bars

    if args.min_n < 1:
        raise ProbeError(f"--min-n must be 1 or more, not {args.min_n}")
    by, items = parse_by(args.by), parse_items(args.items)
    console = Console(stderr=True)
    with progress_bars(console) as progress:
        task = progress.add_task(terminal_safe(f"reading {Path(args.file).name}"), total=None)
        result = build_baseline(Path(args.file), by, items, args.weight, args.min_n, args.name, args.wave, args.instrument,
                                progress=lambda done, total: progress.update(task, completed=done, total=total or None))
    info = result.provenance
    print(terminal_safe(f"{info['name']}: {result.groups} group(s) × {len(items)} item(s) from {result.rows} respondents of {info['file']} "
                        f"(wave {info['wave']}, weight {info['weight']})"))
    if result.left_out:
        shown = ", ".join(f"{g} (n={n})" for g, n in list(result.left_out.items())[:10])
        more = f" and {len(result.left_out) - 10} more" if len(result.left_out) > 10 else ""
        print(terminal_safe(f"left out, under --min-n {args.min_n}: {shown}{more}"))
    if result.no_persona:
        print(terminal_safe(f"no persona for {len(result.no_persona)} group(s) (a label not in personas.yaml): {', '.join(result.no_persona[:5])}"))
    _say(f"wrote {result.path} and its provenance {result.path.with_suffix('.json')}")
    return 0


def _import_goqa(args) -> int:
    from pathlib import Path

    from .core.goqa import import_goqa

    result = import_goqa(Path(args.file), args.instrument, args.name)
    info = result.provenance
    print(terminal_safe(f"{info['name']}: {info['groups']} countries × {len(result.matched)} item(s) ({', '.join(sorted(result.matched))}) "
                        f"from {info['file']}"))
    print(f"non-substantive answers (don't know, no answer, ...) dropped and the rest renormalised: "
          f"{100 * result.dropped_share:.1f}% of answers on average")
    skipped = {k: v for k, v in info["skipped_questions"].items() if v}
    if skipped:
        print("questions skipped: " + ", ".join(f"{k}: {v}" for k, v in skipped.items()))
    if result.unknown_countries:
        print(terminal_safe(f"no persona for {len(result.unknown_countries)} country name(s) not in assets/countries.yaml: "
                            f"{', '.join(result.unknown_countries[:8])}"))
    _say(f"wrote {result.path} and its provenance {result.path.with_suffix('.json')}")
    return 0


def _list() -> int:
    from .core.groups import list_baselines, user_groups_dir

    found = list_baselines()
    for entry in found:
        print(terminal_safe(f"{entry['name']:<24} {entry['source']}" + (f", built {entry['built']}" if entry["built"] else "")))
        if "problem" in entry:
            print(terminal_safe(f"{'':<24} problem: {entry['problem']}"))
            continue
        levels = f" ({', '.join(entry['levels'])})" if entry["levels"] else ""
        print(terminal_safe(f"{'':<24} {', '.join(entry['instruments'])}: {entry['groups']} group(s){levels}, {entry['with_persona']} with a persona; "
                            f"{entry['items']} item(s); {entry['distributions']} of {entry['rows']} rows with a distribution"))
    hint = "" if found else "; build one with: probe-tui baselines build FILE --by country,sex --weight W_WEIGHT"
    _say(f"{len(found)} baseline(s) in {user_groups_dir()}{hint}")
    return 0
