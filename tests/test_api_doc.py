"""docs/api.md lists every public name of tinygrad_hw and its submodules with its signature:
these tests keep that page in step with the code.

The page has one section per module, headed "## `tg.<module>`", holding one entry per line,
"- `name(params)` — description" (or "- `name` — description" for modules, constants, type
aliases and exceptions without a signature of their own). A module's public names are its
`__all__` when it has one, else the names not starting with "_" that its own top level binds
by def, class or assignment (imports excluded): the rule stated at the top of the page."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import re
import types
from pathlib import Path

import pytest

API_MD = Path(__file__).resolve().parent.parent / "docs" / "api.md"

# The documented modules, as the page names them ("tg" is the package itself).
MODULES = [
    "tg", "tg.nn", "tg.nn.functional", "tg.optim", "tg.data", "tg.viz", "tg.testing",
    "tg.train", "tg.plots", "tg.metrics", "tg.grading",
]
# tinygrad_hw.testing imports these on first use; they need hypothesis.
NEED_HYPOTHESIS = {
    "strategies", "BackwardReport", "StudentCodeError", "check_backward", "compare_backward",
    "use_backward",
}

HEADING = re.compile(r"^## `(tg(?:\.\w+)*)`\s*$")
ENTRY = re.compile(r"^- `(?P<name>[A-Za-z_]\w*)(?P<params>\(.*\))?` — \S")


@dataclasses.dataclass
class Entry:
    name: str
    params: str | None  # "(x, axis=None)", or None for an entry without parentheses
    line: int


def parse_api_doc(text: str) -> dict[str, list[Entry]]:
    """{"tg.nn": [Entry, ...], ...} in page order; entry-like lines outside a section, or
    list items in a section that do not follow the entry format, are errors."""
    sections: dict[str, list[Entry]] = {}
    current: str | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        heading = HEADING.match(line)
        if heading:
            current = heading.group(1)
            assert current not in sections, f"api.md:{lineno}: second section for {current}"
            sections[current] = []
            continue
        if line.startswith("## "):
            current = None
            continue
        if current is None:
            assert not line.startswith("- `"), f"api.md:{lineno}: entry outside a module section"
            continue
        if line.startswith("- "):
            entry = ENTRY.match(line)
            assert entry, f"api.md:{lineno}: not '- `name(params)` — description': {line!r}"
            sections[current].append(Entry(entry["name"], entry["params"], lineno))
    return sections


def import_module(doc_name: str) -> types.ModuleType:
    return importlib.import_module("tinygrad_hw" + doc_name[len("tg"):])


def public_names(module: types.ModuleType) -> list[str]:
    """`__all__`, else the names without a leading "_" bound by the module's own top-level
    def, class and assignment statements (not by imports)."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    tree = ast.parse(inspect.getsource(module))
    names: list[str] = []
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(stmt.name)
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                names += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            names += [n.id for n in ast.walk(stmt.target) if isinstance(n, ast.Name)]
    return [n for n in dict.fromkeys(names) if not n.startswith("_")]


@pytest.fixture(scope="module")
def sections() -> dict[str, list[Entry]]:
    return parse_api_doc(API_MD.read_text(encoding="utf-8"))


def test_one_section_per_module(sections):
    assert list(sections) == MODULES, (
        f"docs/api.md sections {list(sections)}; expected {MODULES} in that order"
    )


@pytest.mark.parametrize("doc_name", MODULES)
def test_documented_names_are_the_public_names(sections, doc_name):
    documented = [e.name for e in sections.get(doc_name, [])]
    public = public_names(import_module(doc_name))
    twice = sorted({n for n in documented if documented.count(n) > 1})
    missing = sorted(set(public) - set(documented), key=str.lower)
    extra = sorted(set(documented) - set(public), key=str.lower)
    assert not (missing or extra or twice), (
        f"docs/api.md section `{doc_name}` is out of date:\n"
        f"  missing (public but not documented): {', '.join(missing) or '-'}\n"
        f"  extra (documented but not public): {', '.join(extra) or '-'}\n"
        f"  documented twice: {', '.join(twice) or '-'}"
    )


# ------------------------------------------------------------------------------ signatures
_KINDS = {
    "posonly": inspect.Parameter.POSITIONAL_ONLY,
    "arg": inspect.Parameter.POSITIONAL_OR_KEYWORD,
    "vararg": inspect.Parameter.VAR_POSITIONAL,
    "kwonly": inspect.Parameter.KEYWORD_ONLY,
    "kwarg": inspect.Parameter.VAR_KEYWORD,
}
_NO_DEFAULT = object()


def documented_parameters(params: str) -> list[tuple[str, inspect._ParameterKind, object]]:
    """(name, kind, default expression or _NO_DEFAULT) for each parameter of "(...)"."""
    args = ast.parse(f"def f{params}: pass").body[0].args
    positional = [(a, "posonly") for a in args.posonlyargs] + [(a, "arg") for a in args.args]
    defaults = [_NO_DEFAULT] * (len(positional) - len(args.defaults)) + list(args.defaults)
    out = [(a.arg, _KINDS[kind], d) for (a, kind), d in zip(positional, defaults)]
    if args.vararg:
        out.append((args.vararg.arg, _KINDS["vararg"], _NO_DEFAULT))
    out += [(a.arg, _KINDS["kwonly"], _NO_DEFAULT if d is None else d)
            for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    if args.kwarg:
        out.append((args.kwarg.arg, _KINDS["kwarg"], _NO_DEFAULT))
    return out


def default_matches(obj: object, name: str, node: ast.expr, actual: object) -> bool:
    """A documented default against the real one: literals by value (a dataclass field's
    default_factory by what it makes), other expressions (np.float64, cross_entropy) by the
    last dotted name against the object's __name__."""
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return ast.unparse(node).rsplit(".", 1)[-1] == getattr(actual, "__name__", None)
    if dataclasses.is_dataclass(obj):
        field = {f.name: f for f in dataclasses.fields(obj)}.get(name)
        if field is not None and field.default_factory is not dataclasses.MISSING:
            return value == field.default_factory()
    return type(value) is type(actual) and value == actual


def signature_problems(obj: object, entry: Entry) -> list[str]:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        signature = None
    if entry.params is None:
        if signature is not None and not isinstance(obj, types.ModuleType):
            return [f"has no parameters in the page but inspect.signature gives {signature}"]
        return []
    if signature is None:
        return [f"documented as {entry.name}{entry.params} but has no signature"]
    actual = [(p.name, p.kind, p.default) for p in signature.parameters.values()]
    documented = documented_parameters(entry.params)
    if [(n, k) for n, k, _ in documented] != [(n, k) for n, k, _ in actual]:
        return [f"parameters {[n for n, _, _ in documented]} in the page, "
                f"{[n for n, _, _ in actual]} in the code ({signature})"]
    problems = []
    for (name, _, node), (_, _, real) in zip(documented, actual):
        if (node is _NO_DEFAULT) != (real is inspect.Parameter.empty):
            problems.append(f"parameter {name!r}: default in the page and code disagree "
                            f"on whether there is one ({signature})")
        elif node is not _NO_DEFAULT and not default_matches(obj, name, node, real):
            problems.append(f"parameter {name!r}: default {ast.unparse(node)} in the page, "
                            f"{real!r} in the code")
    return problems


@pytest.mark.parametrize("doc_name", MODULES)
def test_documented_signatures_match_the_code(sections, doc_name):
    module = import_module(doc_name)
    problems = []
    for entry in sections.get(doc_name, []):
        if doc_name == "tg.testing" and entry.name in NEED_HYPOTHESIS:
            pytest.importorskip("hypothesis")
        try:
            obj = getattr(module, entry.name)
        except AttributeError:
            continue  # reported by test_documented_names_are_the_public_names
        problems += [f"api.md:{entry.line}: {doc_name}.{entry.name}: {p}"
                     for p in signature_problems(obj, entry)]
    assert not problems, "docs/api.md signatures out of date:\n  " + "\n  ".join(problems)


def test_parser_reads_entries_and_rejects_malformed_ones():
    page = "# t\n\n## `tg.metrics`\n\n- `accuracy(outputs, labels)` — x.\n- `np` — y.\n"
    parsed = parse_api_doc(page)
    assert [(e.name, e.params) for e in parsed["tg.metrics"]] == [
        ("accuracy", "(outputs, labels)"), ("np", None)]
    with pytest.raises(AssertionError, match="not '- `name"):
        parse_api_doc("## `tg.metrics`\n\n- accuracy(outputs) — no backticks\n")
    entry = Entry("f", "(a, b=1, *c, d, e=np.float64, **g)", 1)

    def f(a, b=1, *c, d, e=float, **g):
        pass

    assert signature_problems(f, entry) == ["parameter 'e': default np.float64 in the page, "
                                            "<class 'float'> in the code"]
    assert signature_problems(f, Entry("f", "(a, b=2, *c, d, e=float, **g)", 1)) == [
        "parameter 'b': default 2 in the page, 1 in the code"]
    assert "parameters ['a']" in signature_problems(f, Entry("f", "(a)", 1))[0]
