"""Which AWS API calls a function's code can make, read statically from its code and the layer it imports.

Starting at the function's own modules (every definition in them: route handlers register themselves), the
reader follows names to the definitions they reach, module by module, into the shared layer: a module body
runs on import, a reached class brings its methods, and `("package.module", "Name")` pairs are the imports
done by name (importlib) when configured. In every reached
definition it collects

- boto3 calls: an operation of a service whose client (or resource) the same module creates (`boto3.client(
  "events")`, or the layer's bounded factory `aws_client("events")`), named either as an attribute
  (`client.put_events(`) or as a string (`getattr(client, "put_item")`, or handed to the module that owns the
  client: `store.call("put_item", ...)`);
- Powertools Parameters: `parameters.get_secret(` and friends, and the layer's `get_secret` on top of them;
- the `Settings` fields read (`settings.jwt_secret_arn`), which name the environment variables, and so the
  template resources, the calls go to.

It over-approximates (a definition counts once any reached code names it), which is the safe side for a
permission check: a role must allow every call the code could make.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

# Powertools Parameters helpers and the IAM action each calls.
PARAMETERS_HELPERS = {
    "get_secret": "secretsmanager:GetSecretValue",
    "get_secrets_by_name": "secretsmanager:GetSecretValue",
    "get_parameter": "ssm:GetParameter",
    "get_parameters": "ssm:GetParametersByPath",
    "get_parameters_by_name": "ssm:GetParameters",
    "get_app_config": "appconfig:GetLatestConfiguration",
}
# The layer's bounded wrappers (ticketing/aws_clients.py): the factory of clients, and its secret reader.
CLIENT_FACTORIES = ("client", "resource", "aws_client")
LAYER_SECRET_READER = "ticketing.aws_clients:get_secret"
# Where an operation's IAM action has another name than the operation.
IAM_ACTION_OF_OPERATION = {"lambda:Invoke": "lambda:InvokeFunction"}


@dataclass(frozen=True)
class AwsCall:
    action: str  # IAM action, e.g. "events:PutEvents"
    service: str  # botocore service name, e.g. "events" (the VPC endpoint's too, mostly)
    module: str
    line: int


@dataclass
class FunctionCalls:
    calls: set[AwsCall] = field(default_factory=set)
    settings_read: set[str] = field(default_factory=set)  # environment variable names
    modules: set[str] = field(default_factory=set)

    @property
    def actions(self) -> set[str]:
        return {call.action for call in self.calls}


@dataclass
class _Module:
    name: str
    tree: ast.Module
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> module or "module:attribute"
    definitions: dict[str, ast.AST] = field(default_factory=dict)  # top-level def/class name -> node
    services: set[str] = field(default_factory=set)  # botocore services it creates clients for


def calls_of_function(code_dir: Path, layer_dirs: list[Path]) -> FunctionCalls:
    """Every AWS call reachable from the function whose code is in `code_dir`."""
    roots = [code_dir, *layer_dirs]
    found = FunctionCalls()
    reached: set[tuple[str, str]] = set()  # (module, definition name or "" for the module body)
    pending: list[tuple[str, str]] = []

    def reach(module_name: str, definition: str) -> None:
        module = _load(module_name, tuple(roots))
        if module is None or (module_name, definition) in reached:
            return
        if definition and definition not in module.definitions:
            # A re-export (`from .x import y` in a package) leads on; a variable is part of the module body.
            target = module.aliases.get(definition, "")
            if ":" in target:
                reach(*target.split(":"))
            elif target:
                reach(target, "")
            definition = ""
            if (module_name, definition) in reached:
                return
        reached.add((module_name, definition))
        pending.append((module_name, definition))
        reach(module_name, "")  # a definition runs in an imported module: its body ran first
        if "." in module_name:
            reach(module_name.rsplit(".", 1)[0], "")  # and so did its package's

    own_modules = sorted(path.stem for path in code_dir.glob("*.py"))
    for name in own_modules:
        reach(name, "")
        for definition in _module(name, roots).definitions:
            reach(name, definition)
    settings_fields = _settings_fields(tuple(roots))
    while pending:
        module_name, definition = pending.pop()
        module = _module(module_name, roots)
        found.modules.add(module_name)
        nodes = _body_of(module, definition)
        for node in (inner for top in nodes for inner in ast.walk(top)):
            for target_module, target in _references(module, node, roots):
                reach(target_module, target)
            found.calls |= _aws_calls(module, node)
            if isinstance(node, ast.Attribute) and node.attr in settings_fields:
                found.settings_read.add(settings_fields[node.attr])
    return found


def _body_of(module: _Module, definition: str) -> list[ast.AST]:
    if definition:
        return [module.definitions[definition]]  # a class with its bases and all its methods
    # The module body without the bodies of its definitions (decorators and defaults do run on import).
    body: list[ast.AST] = []
    for statement in module.tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body.extend(statement.decorator_list)
        elif any(node is statement for node in module.definitions.values()):
            continue
        elif isinstance(statement, ast.Assign):
            body.append(statement.value)  # `handler.flag = True` marks a function, it does not call it
        else:
            body.append(statement)
    return body


def _references(module: _Module, node: ast.AST, roots: list[Path]) -> list[tuple[str, str]]:
    """The (module, definition) pairs a node names; "" as the definition is a module's body."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        # An import runs the module's body; the names it brings count once code uses them.
        return [(target.split(":")[0], "") for target in _import_targets(module.name, node, roots).values()]
    if isinstance(node, ast.Tuple) and len(node.elts) == 2 and all(_is_string(item) for item in node.elts):
        # ("package.module", "Name"): a definition imported by name (importlib) when configured.
        module_name, name = (item.value for item in node.elts)  # type: ignore[attr-defined]
        return [(module_name, name)] if _load(module_name, tuple(roots)) is not None else []
    if isinstance(node, ast.Name):
        if node.id in module.definitions:
            return [(module.name, node.id)]
        target = module.aliases.get(node.id, "")
        return [tuple(target.split(":"))] if ":" in target else []  # type: ignore[list-item]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        target = module.aliases.get(node.value.id, "")
        if target and ":" not in target:
            submodule = f"{target}.{node.attr}"
            if _load(submodule, tuple(roots)) is not None:
                return [(submodule, "")]
            return [(target, node.attr)]
    return []


def _import_targets(module_name: str, node: ast.Import | ast.ImportFrom, roots: list[Path]) -> dict[str, str]:
    targets: dict[str, str] = {}
    if isinstance(node, ast.Import):
        for alias in node.names:
            # `import a.b` binds `a`; `import a.b as c` binds `c` to `a.b`.
            top = alias.name.split(".")[0]
            targets[alias.asname or top] = alias.name if alias.asname else top
        return targets
    base = node.module or ""
    if node.level:
        package = module_name.split(".")[: -node.level]
        base = ".".join([*package, base] if base else package)
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        is_module = _load(submodule, tuple(roots)) is not None
        targets[alias.asname or alias.name] = submodule if is_module else f"{base}:{alias.name}"
    return targets


def _aws_calls(module: _Module, node: ast.AST) -> set[AwsCall]:
    if isinstance(node, ast.Name) and module.aliases.get(node.id) == LAYER_SECRET_READER:
        return {AwsCall("secretsmanager:GetSecretValue", "secretsmanager", module.name, node.lineno)}
    if isinstance(node, ast.Call):
        return _delegated_call(module, node)
    named = (
        node.attr
        if isinstance(node, ast.Attribute)
        else node.value
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        else None
    )
    if named is None:
        return set()
    calls = set()
    line = getattr(node, "lineno", 0)
    if isinstance(node, ast.Attribute) and named in PARAMETERS_HELPERS and _names_parameters(module, node):
        action = PARAMETERS_HELPERS[named]
        calls.add(AwsCall(action, action.split(":")[0], module.name, line))
    for service in module.services:
        operation = _operations(service).get(named)
        if operation:
            action = f"{_iam_prefix(service)}:{operation}"
            calls.add(AwsCall(IAM_ACTION_OF_OPERATION.get(action, action), service, module.name, line))
    return calls


def _delegated_call(module: _Module, node: ast.Call) -> set[AwsCall]:
    """An operation named as a string and handed to a module that owns the client (`store.call("put_item", ...)`):
    a call of that module's services."""
    if not (
        isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.args
        and _is_string(node.args[0])
    ):
        return set()
    owner_name = module.aliases.get(node.func.value.id, "")
    owners = [loaded for (name, _), loaded in _MODULES.items() if name == owner_name and loaded is not None]
    calls = set()
    for owner in owners:
        for service in owner.services:
            operation = _operations(service).get(node.args[0].value)  # type: ignore[attr-defined]
            if operation:
                action = f"{_iam_prefix(service)}:{operation}"
                calls.add(AwsCall(IAM_ACTION_OF_OPERATION.get(action, action), service, module.name, node.lineno))
    return calls


def _names_parameters(module: _Module, node: ast.Attribute) -> bool:
    imported = module.aliases.get(node.value.id, "") if isinstance(node.value, ast.Name) else ""
    return imported.replace(":", ".") == "aws_lambda_powertools.utilities.parameters"


def _is_string(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


@cache
def _operations(service: str) -> dict[str, str]:
    """snake_case method name -> operation name, from botocore's service model."""
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(operation): operation for operation in model.operation_names}


@cache
def _iam_prefix(service: str) -> str:
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    return str(model.metadata.get("signingName") or model.endpoint_prefix)


@cache
def endpoint_prefix(service: str) -> str:
    """The name of the service's endpoint (`com.amazonaws.<region>.<this>` for its VPC endpoint)."""
    import botocore.session

    return str(botocore.session.get_session().get_service_model(service).endpoint_prefix)


_MODULES: dict[tuple[str, tuple[Path, ...]], _Module | None] = {}


def _module(name: str, roots: list[Path]) -> _Module:
    module = _load(name, tuple(roots))
    if module is None:
        raise KeyError(name)
    return module


def _load(name: str, roots: tuple[Path, ...]) -> _Module | None:
    key = (name, roots)
    if key not in _MODULES:
        _MODULES[key] = _parse(name, roots)
    return _MODULES[key]


def _parse(name: str, roots: tuple[Path, ...]) -> _Module | None:
    relative = Path(*name.split("."))
    for root in roots:
        for path in (root / relative.with_suffix(".py"), root / relative / "__init__.py"):
            if path.is_file():
                break
        else:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        module = _Module(name, tree)
        for statement in tree.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                module.definitions[statement.name] = statement
            elif isinstance(statement, ast.Assign | ast.AnnAssign) and isinstance(_target(statement), ast.Name):
                # A module-level value (`CurrentUser = Annotated[..., Depends(authenticated)]`) counts as what
                # it names only where code uses it.
                module.definitions[_target(statement).id] = statement  # type: ignore[union-attr]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                module.aliases.update(_import_targets(name, node, list(roots)))
            elif _creates_client(node):
                module.services.add(node.args[0].value)  # type: ignore[attr-defined]
        return module
    return None


def _target(statement: ast.Assign | ast.AnnAssign) -> ast.expr | None:
    if isinstance(statement, ast.AnnAssign):
        return statement.target
    return statement.targets[0] if len(statement.targets) == 1 else None


def _creates_client(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    called = (
        node.func.attr
        if isinstance(node.func, ast.Attribute)
        else node.func.id
        if isinstance(node.func, ast.Name)
        else ""
    )
    return (
        called in CLIENT_FACTORIES
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


@cache
def _settings_fields(roots: tuple[Path, ...]) -> dict[str, str]:
    """`Settings` field name -> the environment variable it reads (its alias)."""
    config = _load("ticketing.config", tuple(roots))
    if config is None:
        return {}
    settings = config.definitions.get("Settings")
    fields = {}
    for statement in getattr(settings, "body", []):
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            for keyword in getattr(statement.value, "keywords", []):
                if keyword.arg == "alias" and isinstance(keyword.value, ast.Constant):
                    fields[statement.target.id] = str(keyword.value.value)
    return fields


if __name__ == "__main__":  # python -m devtools.aws_calls functions/<name> [layer dirs...]
    result = calls_of_function(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]] or [Path("layers/shared")])
    for call in sorted(result.calls, key=lambda c: (c.action, c.module, c.line)):
        print(f"{call.action:45} {call.module}:{call.line}")
    print("settings read:", ", ".join(sorted(result.settings_read)))
