"""Fetch the Postman sandbox's script libraries from the npm registry and bundle them for QuickJS.

Newman 6.2.2 runs scripts in postman-sandbox 4.7.1, whose ``require()`` offers ajv, chai, cheerio,
crypto-js, lodash, moment, ... and the Node built-ins browserify provides (its lib/environment.js),
plus the legacy globals ``_`` (lodash 3), ``xml2Json``, Sugar (lib/sandbox/postman-legacy-interface.js,
lib/vendor/sugar.js). This tool installs exactly the versions postman-sandbox pins
(tools/script-libraries/package.json, every package's sha512 pinned in its package-lock.json and
checked by ``npm ci``; the top-level ones are checked again below), then bundles each library with
browserify (minified by terser, as postman-sandbox does) into ``o365check/postman/js/libs/<name>.js`` plus ``THIRD-PARTY-LICENSES.txt``.
The bundles are build output (git-ignored); the built package carries them (package-data).

    python tools/fetch_script_libraries.py [--force] [--out DIR]

Nothing is rebuilt when ``libs/stamp.json`` matches the inputs. Needs ``npm`` and ``node``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT / "tools" / "script-libraries"
WORK_DIR = ROOT / "build" / "script-libraries"
OUT_DIR = ROOT / "o365check" / "postman" / "js" / "libs"
INPUTS = ("package.json", "package-lock.json", "bundle.js")

# name -> (version postman-sandbox 4.7.1 pins, npm dist.integrity). `npm ci` verifies every package
# of the lock file; this table makes a changed lock file fail loudly instead of silently.
PINNED = {
    "ajv": (
        "6.12.5",
        "sha512-lRF8RORchjpKG50/WFf8xmg7sgCLFiYNNnqdKflk63whMQcWR5ngGjiSXkL9bjxy6B2npOK2HSMN49jEBMSkag==",
    ),
    "assert": (
        "2.0.0",
        "sha512-se5Cd+js9dXJnu6Ag2JFc00t+HmHOen+8Q+L7O9zI0PqQXr20uk2J0XQqMxZEeo5U50o8Nvmmx7dZrl+Ufr35A==",
    ),
    "atob": (
        "2.1.2",
        "sha512-Wm6ukoaOGJi/73p/cl2GvLjTI5JM1k/O14isD73YML8StrH/7/lRFgmg8nICZgD3bZZvjwCGxtMOD3wWNAu8cg==",
    ),
    "backbone": (
        "1.6.0",
        "sha512-13PUjmsgw/49EowNcQvfG4gmczz1ximTMhUktj0Jfrjth0MVaTxehpU+qYYX4MxnuIuhmvBLC6/ayxuAGnOhbA==",
    ),
    "btoa": (
        "1.2.1",
        "sha512-SB4/MIGlsiVkMcHmT+pSmIPoNDoHg+7cMzmt3Uxt628MTz2487DKSqK/fuhFBrkuqrYv5UCEnACpF4dTFNKc/g==",
    ),
    "buffer": (
        "6.0.3",
        "sha512-FTiCpNxtwiZZHEZbcbTIcZjERVICn9yq/pDFkTl95/AxzD1naBctN7YO68riM/gLSDY7sdrMby8hofADYuuqOA==",
    ),
    "chai": (
        "4.4.1",
        "sha512-13sOfMv2+DWduEU+/xbun3LScLoqN17nBeTLUsmDfKdoiC1fr0n9PU4guu4AhRcOVFk/sW8LyZWHuhWtQZiF+g==",
    ),
    "cheerio": (
        "0.22.0",
        "sha512-8/MzidM6G/TgRelkzDG13y3Y9LxBjCb+8yOEZ9+wwq5gVF2w2pV0wmHvjfT0RvuxGyR7UEuK36r+yYMbT4uKgA==",
    ),
    "crypto-js": (
        "3.3.0",
        "sha512-DIT51nX0dCfKltpRiXV+/TVZq+Qq2NgF4644+K7Ttnla7zEzqc+kjJyiB96BHNyUTBxyjzRcZYpUdZa+QAqi6Q==",
    ),
    "csv-parse": (
        "1.2.4",
        "sha512-Mv4Ly6mshOHEIlnVGB/PZtDCT+vyvyCs5Qae/lLeAIlKNR4W7TkmSGmB10uPm7aJQYcTO/rswLzUcYu6wFlAYg==",
    ),
    "lodash": (
        "4.17.21",
        "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==",
    ),
    "lodash3": (
        "3.10.2",
        "sha512-hI/O+LJKdV0LYa3vCs/cR7qoYGyAB0nxJmdWto/FWPWXiwLG1QvNI5DQ6aExVVP5OFxSYmMwGtD8VEiAusZWXg==",
    ),
    "moment": (
        "2.30.1",
        "sha512-uEmtNhbDOrWPFS+hdjFCBfy9f2YoyzRpwcl+DqpC6taX21FzsTLQVbMV/W7PzNSX6x/bhC1zA3c2UQ5NzH6how==",
    ),
    "postman-collection": (
        "4.4.0",
        "sha512-2BGDFcUwlK08CqZFUlIC8kwRJueVzPjZnnokWPtJCd9f2J06HBQpGL7t2P1Ud1NEsK9NHq9wdipUhWLOPj5s/Q==",
    ),
    "postman-sandbox": (
        "4.7.1",
        "sha512-H2wYSLK0mB588IaxoLrLoPbpmxsIcwFtgaK2c8gAsAQ+TgYFePwb4qdeVcYDMqmwrLd77/ViXkjasP/sBMz1sQ==",
    ),
    "tv4": (
        "1.3.0",
        "sha512-afizzfpJgvPr+eDkREK4MxJ/+r8nEEHcmitwgnPUqpaP+FpwQyadnxNoSACbgc/b1LsZYtODGoPiFxQrgJgjvw==",
    ),
    "xml2js": (
        "0.4.23",
        "sha512-ySPiMjM0+pLDftHgXY4By0uswI3SPKLDw/i3UXbnO8M/p28zqexCUoPmQFrYD+/1BzhGJSs2i1ERWKJAtiLrug==",
    ),
    "browserify": (
        "16.5.2",
        "sha512-TkOR1cQGdmXU9zW4YukWzWVSJwrxmNdADFbqbE3HFgQWe5wqZmOawqZ7J/8MPCwk/W8yY7Y0h+7mOtcZxLP23g==",
    ),
    "terser": (
        "5.31.0",
        "sha512-Q1JFAoUKE5IMfI4Z/lkE/E6+SwgzO+x4tq4v1AyBLRj8VSYvRO6A/rQrPg1yud4g0En9EKI1TvFRF2tQFcoUkg==",
    ),
}


class BuildError(Exception):
    """The libraries could not be fetched or bundled; the message says why and what to do."""


def _inputs_digest() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        digest.update(name.encode() + b"\0" + (SPEC_DIR / name).read_bytes() + b"\0")
    return digest.hexdigest()


def check_lock_pins(lock: dict) -> None:
    """Every pinned package is in the lock file at its version with its registry integrity."""
    packages = lock.get("packages", {})
    for name, (version, integrity) in PINNED.items():
        entry = packages.get(f"node_modules/{name}")
        if entry is None:
            raise BuildError(f"package-lock.json has no entry for {name}; restore tools/script-libraries/")
        if entry.get("version") != version or entry.get("integrity") != integrity:
            raise BuildError(
                f"package-lock.json pins {name}@{entry.get('version')} ({str(entry.get('integrity'))[:20]}...), "
                f"expected {name}@{version} ({integrity[:20]}...): the lock file was changed"
            )


def _run(command: list[str], cwd: Path) -> None:
    try:
        completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise BuildError(f"{command[0]} is not installed ({exc}); install Node.js with npm and run again") from None
    if completed.returncode != 0:
        tail = (completed.stderr or completed.stdout).strip()[-2000:]
        raise BuildError(f"`{' '.join(command)}` failed with exit code {completed.returncode}:\n{tail}")


def build(out_dir: Path = OUT_DIR, force: bool = False) -> bool:
    """Fetch and bundle into ``out_dir``; False when the bundles there are already current."""
    stamp = out_dir / "stamp.json"
    digest = _inputs_digest()
    if not force and stamp.exists():
        try:
            if json.loads(stamp.read_text(encoding="utf-8")).get("inputs") == digest:
                return False
        except ValueError:
            pass
    check_lock_pins(json.loads((SPEC_DIR / "package-lock.json").read_text(encoding="utf-8")))
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    for name in INPUTS:
        shutil.copyfile(SPEC_DIR / name, WORK_DIR / name)
    # --ignore-scripts: no package's install script runs; npm ci checks each tarball's sha512.
    _run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], WORK_DIR)
    staging = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    _run(["node", "bundle.js", str(staging)], WORK_DIR)
    (staging / "stamp.json").write_text(json.dumps({"inputs": digest}), encoding="utf-8")
    shutil.rmtree(out_dir, ignore_errors=True)
    staging.rename(out_dir)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when the bundles are current")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help=f"output folder (default {OUT_DIR})")
    args = parser.parse_args(argv)
    try:
        built = build(args.out.resolve(), force=args.force)
    except BuildError as exc:
        print(f"fetch_script_libraries: {exc}", file=sys.stderr)
        return 2
    print(f"script libraries {'bundled into' if built else 'already current in'} {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
