"""The layer's packages import only downward, in the order written in .importlinter and docs/architecture.md."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LAYER = REPO_ROOT / "layers" / "shared" / "ticketing"


def written_layers() -> list[str]:
    config = configparser.ConfigParser()
    config.read(REPO_ROOT / ".importlinter")
    lines = config["importlinter:contract:layers"]["layers"].split("\n")
    return [name.strip() for line in lines for name in line.split("|") if name.strip()]


def test_no_import_goes_against_the_written_direction() -> None:
    checked = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout[-3000:]
    assert "1 kept, 0 broken" in checked.stdout


def test_every_package_of_the_layer_has_its_place_in_the_direction() -> None:
    packages = {
        f"ticketing.{path.relative_to(LAYER).with_suffix('').as_posix().replace('/', '.')}"
        for path in [*LAYER.glob("*.py"), *LAYER.glob("*/__init__.py")]
        if path.name != "__init__.py" or path.parent != LAYER
    }
    packages = {name.removesuffix(".__init__") for name in packages} - {"ticketing.catalog"}
    packages |= {"ticketing.catalog.events", "ticketing.catalog.venues"}

    assert packages == set(written_layers())
