"""Import Lambda handlers from their CodeUri folders without module-name collisions."""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any, cast

from devtools.sam_template import FunctionSpec

LambdaHandler = Callable[[dict[str, Any], Any], Any]

_handlers: dict[str, LambdaHandler] = {}
# The HTTP server is threaded; two first requests must not import the same module twice.
_import_lock = threading.Lock()


def load_handler(spec: FunctionSpec) -> LambdaHandler:
    """Return the function's handler, importing its module once per logical id.

    Every function's module is typically called ``app``, so each one is registered under
    its own name (``lambda_<LogicalId>``) instead of going through ``sys.path``.
    """
    with _import_lock:
        if spec.logical_id not in _handlers:
            _handlers[spec.logical_id] = _import_handler(spec)
        return _handlers[spec.logical_id]


def load_module(spec: FunctionSpec) -> ModuleType:
    """The function's handler module (imported once), e.g. to reach its resolver."""
    load_handler(spec)
    return sys.modules[f"lambda_{spec.logical_id}"]


def _import_handler(spec: FunctionSpec) -> LambdaHandler:
    module_path, _, attribute = spec.handler.rpartition(".")
    source_file = spec.code_uri / (module_path.replace(".", "/") + ".py")
    module_name = f"lambda_{spec.logical_id}"
    module_spec = importlib.util.spec_from_file_location(module_name, source_file)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"{spec.logical_id}: cannot import {source_file}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise TypeError(f"{spec.logical_id}: {source_file} has no callable {attribute!r}")
    return cast(LambdaHandler, handler)
