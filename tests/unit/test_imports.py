"""Dependencies point one way (channels/api → conversation core → services → store): no module of bot/ is
reached again by following its own imports, and channels never import the gateway's HTTP app."""
import ast
import subprocess
import sys
from pathlib import Path

from bot.config import ROOT

PACKAGE = ROOT / "bot"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set) -> set:
    """Every bot module this file imports, anywhere in it (lazy imports inside functions count too)."""
    found = set()
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            # The module itself, or the deepest bot module containing the imported name.
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name.startswith("bot"):
                found.add(name)
    return found


def import_graph() -> dict:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    modules = set(files)
    # A package's __init__ is what `from package import x` reaches; a submodule importing its own package
    # is how Python works, not a dependency cycle.
    return {name: {m for m in _imports(path, modules) if m != name and not name.startswith(m + ".")}
            for name, path in files.items()}


def find_cycle(graph: dict):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_module_of_bot_imports_itself_through_others():
    cycle = find_cycle(import_graph())
    assert cycle is None, " → ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_channels_and_services_do_not_depend_on_the_http_app():
    graph = import_graph()
    for name, imported in graph.items():
        if name.startswith(("bot.channels", "bot.conversation", "bot.services", "bot.store")):
            assert "bot.gateway.app" not in imported, name
        if name.startswith(("bot.conversation", "bot.services", "bot.store")):
            assert not any(m.startswith("bot.gateway") for m in imported), (name, imported)


def test_importing_the_telegram_channel_does_not_load_the_gateway():
    code = ("import sys, bot.channels.telegram, bot.channels.telegram.adapter, bot.channels.telegram.staff_group; "
            "print('bot.gateway.app' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
