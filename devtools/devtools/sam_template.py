"""Read the parts of a SAM template that a local API Gateway + Lambda emulator needs."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_SIZE_MB = 128

# Tags whose long form is not simply "Fn::<Name>".
_TAGS_WITHOUT_FN_PREFIX = {"Ref", "Condition"}
_SHORT_FORM_TAGS = (
    "Ref",
    "Condition",
    "Sub",
    "GetAtt",
    "If",
    "Equals",
    "Not",
    "Select",
    "Join",
    "FindInMap",
    "Split",
    "ImportValue",
    "Base64",
    "Cidr",
    "GetAZs",
    "And",
    "Or",
)


class TemplateError(ValueError):
    """The template lacks something the local runner cannot do without."""


@dataclass(frozen=True)
class ApiRoute:
    method: str  # upper case, or "ANY"
    path: str  # the template's resource path, e.g. "/api/users/{id}"


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str  # "module.attribute", relative to code_uri
    timeout: int
    memory_size: int
    environment: dict[str, str]
    api_events: list[ApiRoute]
    schedule_events: list[str]


@dataclass(frozen=True)
class GatewayResponse:
    """One entry of an Api's `GatewayResponses`: what API Gateway answers itself for a response type."""

    status_code: int | None
    headers: dict[str, str]  # static values, quotes removed
    json_template: str | None  # the `application/json` response template, `$context` variables unresolved


@dataclass(frozen=True)
class SamApp:
    functions: list[FunctionSpec]
    binary_media_types: list[str]
    # Headers API Gateway answers CORS preflights (OPTIONS) with, from the Api's `Cors` setting.
    cors_preflight_headers: dict[str, str] = field(default_factory=dict)
    # Keyed by response type (MISSING_AUTHENTICATION_TOKEN, REQUEST_TOO_LARGE, DEFAULT_4XX, ...).
    gateway_responses: dict[str, GatewayResponse] = field(default_factory=dict)


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation's short-form intrinsic tags."""


def _intrinsic_constructor(name: str) -> Any:
    key = name if name in _TAGS_WITHOUT_FN_PREFIX else f"Fn::{name}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if name == "GetAtt":
                # CloudFormation splits "Resource.Attribute" on the first dot.
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {key: value}

    return construct


for _tag in _SHORT_FORM_TAGS:
    _TemplateLoader.add_constructor(f"!{_tag}", _intrinsic_constructor(_tag))


def read_template(path: Path | str) -> dict[str, Any]:
    """Parse a SAM YAML file as CloudFormation's AWS::LanguageExtensions hands it on: short-form tags become
    long-form dicts like {"Ref": x}, and every `Fn::ForEach` is expanded."""
    with open(path, encoding="utf-8") as stream:
        template = yaml.load(stream, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader
    if not isinstance(template, dict):
        raise TemplateError(f"{path} is not a mapping")
    expanded: dict[str, Any] = expand_for_each(template, {})
    return _resolve_find_in_map(expanded, expanded.get("Mappings") or {})


_FOR_EACH = "Fn::ForEach::"


def expand_for_each(node: Any, bindings: dict[str, str]) -> Any:
    """Expand `Fn::ForEach` loops the way AWS::LanguageExtensions does for the forms the template uses: the
    collection is a literal list of strings; `${Identifier}` (and `&{Identifier}`, alphanumerics only) is
    replaced in keys and in `Fn::Sub` strings, `Ref: Identifier` becomes the value, and a `Fn::Sub` left
    without variables becomes its plain string."""
    if isinstance(node, list):
        return [expand_for_each(item, bindings) for item in node]
    if not isinstance(node, dict):
        return node
    if bindings and set(node) == {"Ref"} and isinstance(ref := expand_for_each(node["Ref"], bindings), str):
        return bindings.get(ref, {"Ref": ref})
    if bindings and set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
        text = _bind(node["Fn::Sub"], bindings)
        return text if "${" not in text else {"Fn::Sub": text}
    expanded: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(key, str) and key.startswith(_FOR_EACH):
            identifier, collection, fragment = value
            if not isinstance(collection, list) or not all(isinstance(item, str) for item in collection):
                raise TemplateError(f"{key}: the local reader expands literal lists of strings only")
            for item in collection:
                generated = expand_for_each(fragment, {**bindings, identifier: item})
                if duplicated := set(generated) & set(expanded):
                    raise TemplateError(f"{key} generates {sorted(duplicated)} twice")
                expanded.update(generated)
        else:
            expanded[_bind(key, bindings) if isinstance(key, str) else key] = expand_for_each(value, bindings)
    return expanded


def _resolve_find_in_map(node: Any, mappings: dict[str, Any]) -> Any:
    """`Fn::FindInMap` with literal keys becomes its value, or its `DefaultValue` (LanguageExtensions)."""
    if isinstance(node, list):
        return [_resolve_find_in_map(item, mappings) for item in node]
    if not isinstance(node, dict):
        return node
    arguments = node.get("Fn::FindInMap")
    if len(node) == 1 and isinstance(arguments, list) and all(isinstance(key, str) for key in arguments[:3]):
        found = (mappings.get(arguments[0]) or {}).get(arguments[1], {}).get(arguments[2])
        default = next((option["DefaultValue"] for option in arguments[3:] if "DefaultValue" in option), None)
        if found is not None or default is not None:
            return found if found is not None else default
    return {key: _resolve_find_in_map(value, mappings) for key, value in node.items()}


def _bind(text: str, bindings: dict[str, str]) -> str:
    for identifier, value in bindings.items():
        text = text.replace(f"${{{identifier}}}", value)
        text = text.replace(f"&{{{identifier}}}", re.sub("[^0-9A-Za-z]", "", value))
    return text


def load_template(path: Path | str) -> SamApp:
    template_path = Path(path).resolve()
    template = read_template(template_path)
    resources: dict[str, Any] = template.get("Resources") or {}
    global_properties = _globals_section(template, "Function")
    functions = [
        _function_spec(
            logical_id,
            global_properties,
            resource.get("Properties") or {},
            template_path.parent,
        )
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::Serverless::Function"
    ]
    return SamApp(
        functions=functions,
        binary_media_types=binary_media_types(template),
        cors_preflight_headers=cors_preflight_headers(template),
        gateway_responses=gateway_responses(template),
    )


def gateway_responses(template: dict[str, Any]) -> dict[str, GatewayResponse]:
    """The `GatewayResponses` of Globals.Api and every serverless Api (a later one wins per type)."""
    declared: dict[str, Any] = dict(_globals_section(template, "Api").get("GatewayResponses") or {})
    for resource in (template.get("Resources") or {}).values():
        if resource.get("Type") == "AWS::Serverless::Api":
            declared.update((resource.get("Properties") or {}).get("GatewayResponses") or {})
    responses = {}
    for response_type, settings in declared.items():
        if not isinstance(settings, dict):
            continue
        status = settings.get("StatusCode")
        headers = ((settings.get("ResponseParameters") or {}).get("Headers")) or {}
        json_template = (settings.get("ResponseTemplates") or {}).get("application/json")
        responses[str(response_type)] = GatewayResponse(
            status_code=int(status) if isinstance(status, (str, int)) and str(status).isdigit() else None,
            headers={str(name): str(value).strip("'") for name, value in headers.items() if isinstance(value, str)},
            json_template=json_template if isinstance(json_template, str) else None,
        )
    return responses


_CORS_HEADERS = {
    "AllowOrigin": "Access-Control-Allow-Origin",
    "AllowHeaders": "Access-Control-Allow-Headers",
    "AllowMethods": "Access-Control-Allow-Methods",
    "MaxAge": "Access-Control-Max-Age",
    "AllowCredentials": "Access-Control-Allow-Credentials",
}


def cors_preflight_headers(template: dict[str, Any]) -> dict[str, str]:
    """The preflight answer SAM configures from `Cors` (values are quoted literals like "'*'")."""
    cors: Any = _globals_section(template, "Api").get("Cors")
    for resource in (template.get("Resources") or {}).values():
        if resource.get("Type") == "AWS::Serverless::Api":
            cors = (resource.get("Properties") or {}).get("Cors", cors)
    if isinstance(cors, str):
        cors = {"AllowOrigin": cors}
    if not isinstance(cors, dict):
        return {}
    headers = {
        header: str(cors[key]).strip("'")
        for key, header in _CORS_HEADERS.items()
        if isinstance(cors.get(key), str | int | bool) and key in cors
    }
    if headers and "Access-Control-Allow-Methods" not in headers:
        headers["Access-Control-Allow-Methods"] = "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"
    return headers


def binary_media_types(template: dict[str, Any]) -> list[str]:
    """Binary media types of all serverless APIs and Globals.Api, "~1" read as "/"."""
    declared: list[Any] = list(_globals_section(template, "Api").get("BinaryMediaTypes") or [])
    for resource in (template.get("Resources") or {}).values():
        if resource.get("Type") == "AWS::Serverless::Api":
            declared.extend((resource.get("Properties") or {}).get("BinaryMediaTypes") or [])
    decoded = [media_type.replace("~1", "/") for media_type in declared if isinstance(media_type, str)]
    return list(dict.fromkeys(decoded))


def _globals_section(template: dict[str, Any], section: str) -> dict[str, Any]:
    return dict((template.get("Globals") or {}).get(section) or {})


def _function_spec(
    logical_id: str,
    global_properties: dict[str, Any],
    own_properties: dict[str, Any],
    template_dir: Path,
) -> FunctionSpec:
    properties = {**global_properties, **own_properties}
    code_uri = properties.get("CodeUri")
    handler = properties.get("Handler")
    if not isinstance(code_uri, str) or not isinstance(handler, str):
        raise TemplateError(f"{logical_id}: CodeUri and Handler must be plain strings")
    events: dict[str, Any] = properties.get("Events") or {}
    return FunctionSpec(
        logical_id=logical_id,
        code_uri=(template_dir / code_uri).resolve(),
        handler=handler,
        timeout=_plain_int(properties.get("Timeout"), DEFAULT_TIMEOUT_SECONDS),
        memory_size=_plain_int(properties.get("MemorySize"), DEFAULT_MEMORY_SIZE_MB),
        environment={
            **_plain_variables(global_properties),
            **_plain_variables(own_properties),
        },
        api_events=[
            ApiRoute(
                method=str(event["Properties"]["Method"]).upper(),
                path=str(event["Properties"]["Path"]),
            )
            for event in events.values()
            if event.get("Type") == "Api"
        ],
        schedule_events=[
            expression for event in events.values() if isinstance(expression := _schedule_expression(event), str)
        ],
    )


def _schedule_expression(event: dict[str, Any]) -> Any:
    properties = event.get("Properties") or {}
    if event.get("Type") == "Schedule":
        return properties.get("Schedule")
    if event.get("Type") == "ScheduleV2":
        return properties.get("ScheduleExpression")
    return None


def _plain_variables(properties: dict[str, Any]) -> dict[str, str]:
    variables = ((properties.get("Environment") or {}).get("Variables")) or {}
    # Intrinsic values (dicts) only resolve in a real deployment; numbers are
    # stringified like CloudFormation does.
    return {
        name: str(value)
        for name, value in variables.items()
        if isinstance(value, (str, int, float)) and not isinstance(value, bool)
    }


def _plain_int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


if __name__ == "__main__":  # python -m devtools.sam_template template.yaml: the template as JSON, loops expanded
    json.dump(read_template(sys.argv[1]), sys.stdout, indent=1)
