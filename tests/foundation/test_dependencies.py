"""No request pays a thread-pool hop for its dependencies.

FastAPI runs a plain `def` dependency in a worker thread: a round trip through the thread pool
per request for what is usually a lookup on `app.state`. So every function our routes depend on is
a coroutine.
"""

import ast
import importlib
import inspect
from pathlib import Path

from ozg_common.settings import PROJECT_ROOT

SOURCES = [
    *sorted(PROJECT_ROOT.glob("services/*/src")),
    PROJECT_ROOT / "libs" / "common" / "src",
    PROJECT_ROOT / "deploy" / "demo-receiver" / "src",
]


def _depended_on(source: Path) -> set[tuple[str, str]]:
    """(module, name) of every `Depends(name)` written in the packages under `source`."""
    found = set()
    for path in source.rglob("*.py"):
        module = ".".join(path.relative_to(source).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Depends"
                and node.args
                and isinstance(node.args[0], ast.Name)
            ):
                found.add((module, node.args[0].id))
    return found


def test_every_dependency_is_a_coroutine() -> None:
    checked, blocking = 0, []
    for source in SOURCES:
        for module, name in sorted(_depended_on(source)):
            call = getattr(importlib.import_module(module), name)
            checked += 1
            if not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)):
                blocking.append(f"{module}.{name}")
    assert checked > 10
    assert not blocking, f"dependencies that would run in the thread pool: {blocking}"
