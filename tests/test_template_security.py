"""template.yaml gives each function only the keys it needs (docs/security.md): the private key that mints access
tokens is the auth function's alone, and the master database user is the migration function's alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devtools.sam_template import read_template

TEMPLATE = read_template(Path(__file__).resolve().parents[1] / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
GLOBAL_VARIABLES: dict[str, Any] = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
FUNCTIONS = {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
SIGNING_KEY = {"Ref": "JwtSigningKey"}
MASTER_SECRET = {"Fn::GetAtt": ["DatabaseCluster", "MasterUserSecret.SecretArn"]}
APP_SECRET = {"Ref": "AppDatabaseSecret"}


def _mentions(node: Any, target: dict[str, Any]) -> bool:
    if node == target:
        return True
    if isinstance(node, dict):
        return any(_mentions(value, target) for value in node.values())
    if isinstance(node, list):
        return any(_mentions(value, target) for value in node)
    return False


def _variables(name: str) -> dict[str, Any]:
    own = FUNCTIONS[name]["Properties"].get("Environment", {}).get("Variables", {})
    return {**GLOBAL_VARIABLES, **own}


def test_no_function_but_auth_can_read_the_private_key_that_mints_access_tokens() -> None:
    readers = {
        name for name, resource in RESOURCES.items() if name != "JwtSigningKey" and _mentions(resource, SIGNING_KEY)
    }
    policies = FUNCTIONS["AuthFunction"]["Properties"]["Policies"]

    # Nothing but AuthFunction names the secret: no other function's policy, role, variable or output.
    assert readers == {"AuthFunction"}
    assert {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": SIGNING_KEY}} in policies
    assert _variables("AuthFunction")["JWT_SIGNING_KEY_ARN"] == SIGNING_KEY
    assert not _mentions(TEMPLATE.get("Outputs", {}), SIGNING_KEY)
    assert not _mentions(TEMPLATE["Globals"], SIGNING_KEY)


def test_every_other_function_verifies_with_the_public_keys_only() -> None:
    holding_private_keys = [
        name
        for name in FUNCTIONS
        if name != "AuthFunction" and {"JWT_SIGNING_KEY", "JWT_SIGNING_KEY_ARN"} & set(_variables(name))
    ]

    assert holding_private_keys == []
    assert all(_variables(name)["JWT_PUBLIC_KEYS"] == {"Ref": "JwtPublicKeys"} for name in FUNCTIONS)


def test_only_the_migration_function_connects_as_the_master_user() -> None:
    master_readers = {name for name, function in FUNCTIONS.items() if _mentions(function, MASTER_SECRET)}

    assert master_readers == {"MigrationFunction"}
    assert _variables("MigrationFunction")["DB_SECRET_ARN"] == MASTER_SECRET
    assert _variables("MigrationFunction")["APP_DB_SECRET_ARN"] == APP_SECRET
    assert all(_variables(name)["DB_SECRET_ARN"] == APP_SECRET for name in FUNCTIONS if name != "MigrationFunction")


def test_the_proxy_lets_the_application_role_in_with_its_own_secret() -> None:
    auth = RESOURCES["DatabaseProxy"]["Properties"]["Auth"]
    proxy_may_read = RESOURCES["DatabaseProxyRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]

    assert {entry["SecretArn"] == APP_SECRET for entry in auth} == {True, False}
    assert APP_SECRET in proxy_may_read["Resource"]
    secret = RESOURCES["AppDatabaseSecret"]["Properties"]["GenerateSecretString"]
    assert secret["SecretStringTemplate"] == '{"username": "ticketing_app"}'
    assert secret["ExcludePunctuation"] is True
