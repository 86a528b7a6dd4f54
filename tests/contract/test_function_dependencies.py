"""cryptography ships only with the functions that sign or verify Ed25519 tokens or codes: AuthFunction (signs
access tokens), every function with authenticated routes (verifies them), TicketsFunction (ticket codes, and
segno for QR codes), WaitingRoomFunction (signs admission tokens) and BookingsFunction (verifies them); each has
a functions/<name>/requirements.txt.

PyJWT imports cryptography whenever it can, and every function imports PyJWT: in the layer, cryptography
would slow every cold start. So every other function, and every layer module except the three that sign,
verify or draw codes, must load without those packages, as in Lambda where they are not in its package.
The check runs in a fresh interpreter in which importing them fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from devtools.sam_template import load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = load_template(REPO_ROOT / "template.yaml").functions
NEEDS_CRYPTO = ["ticketing.tickets.codes", "ticketing.tickets.service", "ticketing.tickets.check_in"]
WITHOUT_CRYPTO = """
import importlib, pkgutil, sys
sys.modules["cryptography"] = None  # importing it now fails like a missing package
sys.modules["segno"] = None
from pathlib import Path
import ticketing
from devtools.lambda_loader import load_module
from devtools.sam_template import load_template
for function in load_template(Path(sys.argv[1])).functions:
    if function.logical_id != "TicketsFunction":
        load_module(function)
for module in pkgutil.walk_packages(ticketing.__path__, "ticketing."):
    if module.name not in sys.argv[2:]:
        importlib.import_module(module.name)
import jwt
assert not jwt.algorithms.has_crypto
"""


def test_only_the_functions_that_sign_or_verify_codes_ship_cryptography() -> None:
    shipped = {f.logical_id for f in FUNCTIONS if (f.code_uri / "requirements.txt").exists()}
    layer = (REPO_ROOT / "layers/shared/requirements.txt").read_text().splitlines()

    assert shipped == {
        "AuthFunction",
        "UsersFunction",
        "VenuesFunction",
        "EventsFunction",
        "CouponsFunction",
        "ReviewsFunction",
        "TicketsFunction",
        "WaitingRoomFunction",
        "BookingsFunction",
    }
    assert not [line for line in layer if line.startswith(("cryptography", "segno", "pyjwt[crypto]"))]


def test_every_other_function_and_layer_module_loads_without_cryptography(database_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_CRYPTO, str(REPO_ROOT / "template.yaml"), *NEEDS_CRYPTO],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DATABASE_URL": database_url},
    )

    assert done.returncode == 0, done.stderr[-2000:]


def test_every_function_with_authenticated_routes_ships_cryptography_to_verify_access_tokens() -> None:
    callers = re.compile(r"\b(CurrentUser|MaybeUser|Admin|OrganizerOrAdmin|authenticated|require_roles)\b")
    authenticating = {
        function.logical_id
        for function in FUNCTIONS
        if any(callers.search(source.read_text()) for source in function.code_uri.glob("*.py"))
    }
    without_cryptography = {
        function.logical_id
        for function in FUNCTIONS
        if function.logical_id in authenticating
        and "cryptography" not in _requirements(function.code_uri / "requirements.txt")
    }

    assert authenticating, "no function has authenticated routes: the pattern no longer finds them"
    assert without_cryptography == set()


def _requirements(path: Path) -> str:
    return path.read_text() if path.exists() else ""
