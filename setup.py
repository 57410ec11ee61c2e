"""Build hook only (the project is configured in pyproject.toml): bundle the Postman sandbox's script
libraries (tools/fetch_script_libraries.py) before the package's files are collected, so the built
package carries them. Without node/npm the build goes on without them and says so; scripts that
use a library then fail with an error naming the fix."""

import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

TOOL = Path(__file__).resolve().parent / "tools" / "fetch_script_libraries.py"


class BuildWithScriptLibraries(build_py):
    def run(self) -> None:
        if TOOL.is_file():
            result = subprocess.run([sys.executable, str(TOOL)], check=False)
            if result.returncode != 0:
                print("warning: the Postman script libraries were not bundled (see above)", file=sys.stderr)
        super().run()


setup(cmdclass={"build_py": BuildWithScriptLibraries})
