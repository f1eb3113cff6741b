"""Restoration quality on the public benchmark sets, beside classical peers in the same run.

    .venv/bin/python -m benchmarks.quality denoise [--parts synthetic polyu jpeg]
        [--sets ...] [--sigmas 15 25 50] [--polyu-every N] [--jpeg-qualities 10 20 30 40]
        [--model LABEL=FILE ...] [--strength S ...] [--limit N]
        [--peers nlm bm3d ffdnet dncnn] [--bm3d-limit N] [--out FILE.json] [--markdown FILE.md]
    .venv/bin/python -m benchmarks.quality inpaint [--bands r10 ... r60] [--model LABEL=FILE]
        [--limit N] [--peers telea ns] [--out FILE.json] [--markdown FILE.md]
    .venv/bin/python -m benchmarks.quality colorize [--sets kodak24 mcmaster cbsd68]
        [--model LABEL=FILE] [--limit N] [--out FILE.json] [--markdown FILE.md]
    .venv/bin/python -m benchmarks.quality detect [--sets kodak24 mcmaster cbsd68]
        [--model LABEL=FILE] [--sensitivity S ...] [--limit N] [--no-classical] [--out FILE.json]
    .venv/bin/python -m benchmarks.quality colours [--sets kodak24 mcmaster validation]
        [--limit N] [--out FILE.json] [--markdown FILE.md]
    .venv/bin/python -m benchmarks.quality merge denoise A.json B.json ... [--markdown F.md]

Each task's part lives in its own module (`quality_denoise.py`, ...) with its protocol in
its docstring. `merge` joins the raw rows of several runs (say, the slow peers measured
once and each new model) into one table in the part's order. Benchmark images are read
from ../shared/data/bench and are never trained on. Every row is printed as a JSON line
when it is done; the Markdown table comes at the end.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks import (
    quality_colorize,
    quality_colours,
    quality_denoise,
    quality_detect,
    quality_inpaint,
)

PARTS = {
    "denoise": quality_denoise,
    "inpaint": quality_inpaint,
    "colorize": quality_colorize,
    "detect": quality_detect,
    "colours": quality_colours,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    tasks = parser.add_subparsers(dest="task", required=True)
    for name, part in PARTS.items():
        sub = tasks.add_parser(name, description=part.__doc__.splitlines()[0])
        part.add_arguments(sub)
        sub.add_argument("--out", type=Path, help="also write the raw rows as JSON")
        sub.add_argument("--markdown", type=Path, help="also write the table as Markdown")
    merge = tasks.add_parser("merge", description="one table from several runs' raw rows")
    merge.add_argument("part", choices=list(PARTS))
    merge.add_argument("rows", nargs="+", type=Path)
    merge.add_argument("--markdown", type=Path, help="also write the table as Markdown")
    args = parser.parse_args(argv)
    if args.task == "merge":
        return merge_rows(PARTS[args.part], args.rows, args.markdown)
    part = PARTS[args.task]
    rows: list[dict] = []

    def emit(row: dict) -> None:
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)

    part.run(args, emit)
    text = part.table(rows)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", "utf-8")
    if args.markdown:
        args.markdown.write_text(text + "\n", "utf-8")
    print()
    print(text)
    return 0


def merge_rows(part, files: list[Path], markdown: Path | None) -> int:
    rows: dict[tuple, dict] = {}
    for file in files:
        for row in json.loads(file.read_text("utf-8")):
            # The same method on the same data in two runs (a peer measured in both): the
            # later file's row wins.
            identity = tuple((k, v) for k, v in row.items() if not isinstance(v, float))
            rows[identity + (("level", row.get("level")),)] = row
    ordered = sorted(rows.values(), key=part.sort_key)
    text = part.table(ordered)
    if hasattr(part, "summary"):
        for clipped in (False, True):
            title = "clipped 8-bit input" if clipped else "unclipped input (the papers' protocol)"
            summary = part.summary(ordered, clipped)
            text += f"\n\n{title}:\n\n{summary}" if summary else ""
    if markdown:
        markdown.write_text(text + "\n", "utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
