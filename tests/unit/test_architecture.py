"""The import graph keeps the layering of ARCHITECTURE.md: `raylab.runtime` imports no method, Ray is
imported only by the runtime and a method's one RLlib file, methods leave thread limits to the runtime,
and no module imports itself back through a cycle."""

import ast
import re
from pathlib import Path

import raylab

PACKAGE = Path(raylab.__file__).parent
RAY_LIBRARY_FILES = {"methods/par/rllib.py"}  # a method that builds on an RLlib class does it here


def module_name(path: Path) -> str:
    parts = ("raylab",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module `path` imports, at module level or inside functions (lazy imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: {m for m in imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def test_runtime_imports_no_method():
    leaks = {
        name: sorted(m for m in deps if m.startswith("raylab.methods"))
        for name, deps in GRAPH.items()
        if name.startswith("raylab.runtime")
    }
    assert not {name: deps for name, deps in leaks.items() if deps}


def test_only_the_runtime_and_rllib_files_import_ray():
    outside = [
        name
        for name, path in MODULES.items()
        if any(m == "ray" or m.startswith("ray.") for m in imports(path))
        and not name.startswith("raylab.runtime")
        and str(path.relative_to(PACKAGE)) not in RAY_LIBRARY_FILES
    ]
    assert outside == []


def test_no_method_sets_thread_counts_or_starts_ray():
    offenders = []
    for name, path in MODULES.items():
        if not name.startswith("raylab.methods"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("set_num_threads", "init")
                and isinstance(node.value, ast.Name)
                and node.value.id in ("torch", "ray")
            ):
                offenders.append(f"{name}: {node.value.id}.{node.attr}")
    assert offenders == []


SECRET_READERS = {"methods/autodp/llm.py"}  # an API key is read by the process that uses it, never carried


def test_methods_read_no_environment_variables():
    """Data folders and other outside settings reach methods through the RunContext (ARCHITECTURE)."""
    readers = []
    for name, path in MODULES.items():
        if name.startswith("raylab.methods") and str(path.relative_to(PACKAGE)) not in SECRET_READERS:
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                    readers.append(name)
    assert readers == []


def test_no_import_cycles():
    def cycle_from(start):
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in GRAPH[node]:
                if nxt == start:
                    return path + [start]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
        return None

    cycles = [c for c in (cycle_from(m) for m in GRAPH if m.startswith("raylab.methods")) if c]
    assert cycles == []


REMOVED_AFTER_311 = {  # stdlib modules gone in Python 3.12 / 3.13 (requires-python covers both)
    "distutils",
    "imp",
    "asynchat",
    "asyncore",
    "smtpd",
    "aifc",
    "audioop",
    "cgi",
    "cgitb",
    "chunk",
    "crypt",
    "imghdr",
    "mailcap",
    "msilib",
    "nis",
    "nntplib",
    "ossaudiodev",
    "pipes",
    "sndhdr",
    "spwd",
    "sunau",
    "telnetlib",
    "uu",
    "xdrlib",
    "lib2to3",
}


def test_no_module_removed_after_python_311_is_imported():
    used = {
        name: sorted(m for m in imports(path) if m.split(".")[0] in REMOVED_AFTER_311)
        for name, path in MODULES.items()
    }
    assert not {name: mods for name, mods in used.items() if mods}


def test_importing_raylab_and_running_another_method_loads_no_heavy_piece():
    """cvxpy (faa), numba (tsp_mdf), RLlib (par) and POT (otcfm) stay in the default install so the
    main job runs everything, but only the method that needs one imports it; the optional trackers
    and torchcfm only when asked for."""
    import subprocess
    import sys

    code = (
        "import sys, tempfile; from raylab.cli import main; "
        "main(['run', 'specgd/trajectory', '--smoke', '--serial', '--out', tempfile.mkdtemp()]); "
        "heavy = ('cvxpy', 'numba', 'ray.rllib', 'ot', 'torchcfm', 'wandb', 'mlflow'); "
        "print('HEAVY', sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert "HEAVY []" in out.stdout, out.stdout


PROCESS_REFERENCE = re.compile(r"\bbrief\b|\bissue ?#\d|#\d+ item\b", re.IGNORECASE)


def test_code_tests_and_configs_cite_no_process_document():
    """Derivations and thresholds the code relies on are in the method READMEs; no module, test,
    script or config points at an issue or a design brief, which a user's clone does not have."""
    root = PACKAGE.parent
    files = [
        p
        for folder in ("raylab", "tests", "benchmarks", "jobs", "configs")
        for p in (root / folder).rglob("*")
        if p.suffix in (".py", ".yaml", ".sh") and p != Path(__file__)
    ]
    offenders = [str(p.relative_to(root)) for p in files if PROCESS_REFERENCE.search(p.read_text())]
    assert offenders == []
    assert PROCESS_REFERENCE.search("see the brief") and PROCESS_REFERENCE.search("Issue #17 item 6")
    assert not PROCESS_REFERENCE.search("os.umask would, briefly, change it")
