"""The wheel carries the repository's example files and JSON schemas inside the package
(vhpc_toolkit/_bundled/), so `vhpc_toolkit examples` works without a clone. They stay where
the repository keeps them (examples/, docs/schemas/); an editable install reads them there."""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = {"examples": ROOT / "examples", "schemas": ROOT / "docs" / "schemas"}


class BuildWithBundled(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "vhpc_toolkit" / "_bundled"
        for name, source in BUNDLED.items():
            shutil.rmtree(target / name, ignore_errors=True)
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithBundled})
