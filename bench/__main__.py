"""`python -m bench [NAME ...]`: runs every bench/*_bench.py module's main(), or only the named ones."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path


def bench_modules() -> list[str]:
    return sorted(path.stem for path in Path(__file__).parent.glob("*_bench.py"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"any of: {', '.join(bench_modules())}")
    selected = parser.parse_args().names or bench_modules()
    for name in selected:
        module = importlib.import_module(f"bench.{name.removesuffix('_bench')}_bench")
        print(f"== {name}", flush=True)
        module.main()


if __name__ == "__main__":
    main()
