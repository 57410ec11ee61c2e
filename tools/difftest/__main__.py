"""``python -m tools.difftest``: fill the corpus cache, run the differential test, summarise.

    python -m tools.difftest fill-cache [--mirrors /work/.mirror]
    python -m tools.difftest run [--cached] [--conformance] [--shared-corpus] [--out results.json] [FILE...]

``fill-cache`` reads ``manifest.json`` and copies each listed file at its commit out of a local
mirror of its repository (a bare git directory ``<mirrors>/<owner>+<name>/repo``, or a clone at
``<mirrors>/<owner>/<name>``) into ``tools/difftest/.cache/`` (git-ignored). ``run`` compares
Newman and o365check on the chosen collections and prints one line per collection and the totals.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from .echo_proxy import serve_echo_proxy
from .harness import ROOT, Case, Comparison, compare_case, find_newman

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"
CACHE = HERE / ".cache"
CONFORMANCE = ROOT / "tests" / "conformance"
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"


def _git_dir(mirrors: Path, repository: str) -> Path | None:
    owner, name = repository.split("/")
    for candidate in (mirrors / f"{owner}+{name}" / "repo", mirrors / owner / name / ".git", mirrors / owner / name):
        if (candidate / "HEAD").is_file():
            return candidate
    return None


def _cached(entry: dict, path: str) -> Path:
    return CACHE / entry["repository"].replace("/", "+") / entry["commit"][:12] / path


def fill_cache(mirrors: Path) -> int:
    entries = json.loads(MANIFEST.read_text(encoding="utf-8"))["collections"]
    missing = 0
    for entry in entries:
        git_dir = _git_dir(mirrors, entry["repository"])
        for key in ("path", "environment", "globals", "data"):
            if key not in entry:
                continue
            target = _cached(entry, entry[key])
            if target.is_file():
                continue
            if git_dir is None:
                missing += 1
                print(f"no local mirror of {entry['repository']} under {mirrors}", file=sys.stderr)
                break
            blob = subprocess.run(
                ["git", "--git-dir", str(git_dir), "show", f"{entry['commit']}:{entry[key]}"], capture_output=True
            )
            if blob.returncode:
                missing += 1
                print(f"{entry['repository']}@{entry['commit'][:12]}:{entry[key]}: not in the mirror", file=sys.stderr)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.stdout)
    print(f"{len(entries) - missing} of {len(entries)} manifest entries cached in {CACHE}")
    return 1 if missing else 0


def cached_cases() -> list[Case]:
    """The manifest's collections that are in the cache."""
    cases = []
    for entry in json.loads(MANIFEST.read_text(encoding="utf-8"))["collections"]:
        collection = _cached(entry, entry["path"])
        if not collection.is_file():
            continue
        extra = {k: _cached(entry, entry[k]) for k in ("environment", "globals", "data") if k in entry}
        cases.append(Case(f"{entry['repository']}:{entry['path']}", collection, **extra))  # type: ignore[arg-type]
    return cases


def conformance_cases() -> list[Case]:
    """Our own minimal collections (tests/conformance/difftest-*.postman_collection.json), with a sibling
    ``<stem>.postman_environment.json`` when there is one."""
    cases = []
    for path in sorted(CONFORMANCE.glob("difftest-*.postman_collection.json")):
        environment = path.with_name(path.name.replace("postman_collection", "postman_environment"))
        cases.append(Case(f"conformance:{path.name}", path, environment if environment.is_file() else None))
    return cases


def shared_corpus_cases() -> list[Case]:
    """Every collection in ../shared/corpus that names no file of its own (run bare)."""
    if not SHARED_CORPUS.is_dir():
        return []
    cases = []
    for path in sorted(SHARED_CORPUS.rglob("*.json")):
        try:
            document = json.loads(path.read_bytes().decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(document, dict) and isinstance(document.get("item"), list) and "info" in document:
            cases.append(Case(f"shared:{path.relative_to(SHARED_CORPUS)}", path))
    return cases


def run_cases(cases: list[Case], out: Path | None, quiet: bool = False) -> list[Comparison]:
    newman = find_newman()
    if newman is None:
        raise SystemExit("newman not found (.ci/node_modules/.bin/newman or PATH); see .ci/run")
    results: list[Comparison] = []
    with serve_echo_proxy() as proxy, tempfile.TemporaryDirectory(prefix="difftest-") as work:
        for index, case in enumerate(cases):
            try:
                result = compare_case(newman, case, proxy, Path(work) / str(index))
            except OSError as exc:  # e.g. Newman vanished mid-run: record it, keep going
                result = Comparison(case.name, error=f"harness: {type(exc).__name__}: {exc}")
            results.append(result)
            if out is not None:  # written after every collection, so an interrupted run keeps its figures
                out.write_text(json.dumps(summarise(results), indent=1) + "\n", encoding="utf-8")
            if not quiet:
                state = (
                    "same" if result.identical else "DIFF " + ",".join(k for k, v in result.differences.items() if v)
                )
                print(f"{state:40} {case.name}{'  ' + result.error[:200] if result.error else ''}", flush=True)
    if out is not None:
        out.write_text(json.dumps(summarise(results), indent=1) + "\n", encoding="utf-8")
    return results


def _only_error_wording(result: Comparison) -> bool:
    """Differs only in the text of script error messages (QuickJS and V8 word them differently)."""
    differing = {k: v for k, v in result.differences.items() if v}
    return (
        not result.error
        and list(differing) == ["script_errors"]
        and all(key.count("/") == 2 and key.endswith("/3") for key, _, _ in differing["script_errors"])
    )


def summarise(results: list[Comparison]) -> dict:
    ratios_wall = [r.ours_wall_s / r.newman_wall_s for r in results if r.newman_wall_s]
    ratios_rss = [r.ours_rss_mib / r.newman_rss_mib for r in results if r.newman_rss_mib]
    identical = sum(r.identical for r in results)
    return {
        "collections": len(results),
        "identical": identical,
        "identical_share": round(identical / len(results), 3) if results else 0,
        "median_wall_ratio": round(statistics.median(ratios_wall), 3) if ratios_wall else None,
        "median_peak_rss_ratio": round(statistics.median(ratios_rss), 3) if ratios_rss else None,
        "median_wall_s": {
            "newman": round(statistics.median(r.newman_wall_s for r in results), 3) if results else None,
            "o365check": round(statistics.median(r.ours_wall_s for r in results), 3) if results else None,
        },
        "differing_by_category": {
            category: sum(bool(r.differences.get(category)) for r in results)
            for category in ("requests", "statuses", "assertions", "script_errors", "variables", "stats", "exit")
        },
        "only_script_error_wording": sum(_only_error_wording(r) for r in results),
        "results": [r.to_json() for r in results],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.difftest", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fill = sub.add_parser("fill-cache", help="copy the manifest's collections from local mirrors")
    fill.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    run = sub.add_parser("run", help="compare Newman and o365check")
    run.add_argument("--cached", action="store_true", help="the manifest's collections from the cache")
    run.add_argument("--conformance", action="store_true", help="tests/conformance/difftest-*.postman_collection.json")
    run.add_argument("--shared-corpus", action="store_true", help="../shared/corpus collections")
    run.add_argument("--out", type=Path, help="write the results (JSON) here")
    run.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if args.command == "fill-cache":
        return fill_cache(args.mirrors)
    cases = [Case(str(f), f.resolve()) for f in args.files]
    cases += cached_cases() if args.cached else []
    cases += conformance_cases() if args.conformance else []
    cases += shared_corpus_cases() if args.shared_corpus else []
    if not cases:
        parser.error("nothing to run: give files or --cached/--conformance/--shared-corpus")
    results = run_cases(cases, args.out)
    summary = summarise(results)
    print(
        f"{summary['identical']} of {summary['collections']} identical ({summary['identical_share']:.0%}); "
        f"median wall ratio {summary['median_wall_ratio']}, median peak RSS ratio {summary['median_peak_rss_ratio']}"
    )
    return 0 if summary["identical"] == summary["collections"] else 1


if __name__ == "__main__":
    sys.exit(main())
