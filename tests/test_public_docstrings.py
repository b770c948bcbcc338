"""Every public symbol of jaxscope has a docstring with a summary line and a runnable example.

The public API is ``jaxscope.__all__`` and the ``__all__`` of the public submodules
(`js.nn`, `js.layers`, `js.rnn`, `js.train`, `js.initializers`, `js.regularizers`).
Each public function, class and module needs a docstring whose first line is a one-line
summary, and a ``>>>`` example; so does each public method of a public class (its own or
inherited from a jaxscope base class, plus ``__call__``) in the method's docstring where
the method is introduced (see `public_members` for overrides); public properties need a
summary line. Every such example must be one that ``pytest --doctest-modules`` collects,
so that it runs. The ``init``/``apply``/``specs`` functions that `js.transform` returns
are fields of the `Transformed` NamedTuple: their examples live in `Transformed`'s
docstring and their own (generated) docstrings need a summary line.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import sys
import types
from typing import NamedTuple

import numpy as np

import jaxscope as js

PUBLIC_MODULES = {
    "jaxscope": js,
    "jaxscope.nn": js.nn,
    "jaxscope.layers": js.layers,
    "jaxscope.rnn": js.rnn,
    "jaxscope.train": js.train,
    "jaxscope.initializers": js.initializers,
    "jaxscope.regularizers": js.regularizers,
}

# Symbols whose docstring needs a summary but no example: exceptions are raised by
# jaxscope, not called by users (the functions that raise them show them), and a type
# alias cannot carry a docstring of its own. Keep this list short.
NO_EXAMPLE_NEEDED = {
    # exceptions
    "jaxscope.ApplyVariablesError",
    "jaxscope.MissingRngError",
    "jaxscope.NotInTransformError",
    "jaxscope.RawTransformError",
    "jaxscope.ScopeLifetimeError",
    "jaxscope.VariableDtypeError",
    "jaxscope.VariableExistsError",
    "jaxscope.VariableMissingError",
    "jaxscope.VariableShapeError",
    "jaxscope.train.CheckpointError",
    "jaxscope.train.CheckpointNotFoundError",
    "jaxscope.train.CorruptCheckpointError",
    "jaxscope.train.TFCheckpointChecksumError",
    "jaxscope.train.TFCheckpointCorruptError",
    "jaxscope.train.TFCheckpointError",
    "jaxscope.train.TFCheckpointNotFoundError",
    "jaxscope.train.TFCheckpointStringError",
    "jaxscope.train.TFCheckpointUnsupportedError",
}

# Public names that are not functions, classes or modules, and so cannot hold a
# docstring of their own (test_allow_lists_name_real_public_symbols checks that).
NOT_DOCUMENTABLE = {
    "jaxscope.regularizers.Regularizer",  # a typing alias: Callable[[Any], Array | None]
}

TRANSFORMED_FIELDS = ("init", "apply", "specs")
DTYPES_MODULE = "jaxscope.ops.dtypes"

# Layer's subclassing hooks: Layer.__call__ calls them; overrides may change parameters.
SUBCLASS_HOOKS = {"build", "call"}


def summary_problem(doc: str | None) -> str | None:
    """What is wrong with ``doc``'s summary line, or None."""
    if not doc or not doc.strip():
        return "no docstring"
    lines = inspect.cleandoc(doc).splitlines()
    if len(lines) > 1 and lines[1].strip():
        return "summary is not one line (no blank line after the first line)"
    if not lines[0].rstrip().endswith((".", ":")):
        return f"summary line does not end with a period: {lines[0]!r}"
    return None


def has_example(doc: str | None) -> bool:
    return bool(doc) and any(line.lstrip().startswith(">>> ") for line in doc.splitlines())


def is_jaxscope(obj: object) -> bool:
    return (getattr(obj, "__module__", None) or "").startswith("jaxscope")


def public_symbols() -> dict[str, object]:
    """``{qualified name: object}`` of the public API, each object once (first name wins)."""
    symbols: dict[str, object] = {}
    seen: set[int] = set()
    for module_name, module in PUBLIC_MODULES.items():
        if id(module) not in seen:
            seen.add(id(module))
            symbols[module_name] = module
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType) or id(obj) in seen:
                continue
            seen.add(id(obj))
            symbols[f"{module_name}.{name}"] = obj
    return symbols


class Member(NamedTuple):
    """One definition of a public method or property, in a class of a public class's MRO."""

    label: str  # how the failure message names it
    kind: str  # "method" or "property"
    key: object  # the function (a property's getter): what is checked once
    doc_source: object | None  # the function whose docstring it shows (its own or a base's)
    needs_example: bool

    @property
    def doc(self) -> str | None:
        return None if self.doc_source is None else self.doc_source.__doc__


def unwrap(raw: object) -> object:
    if isinstance(raw, (staticmethod, classmethod)):
        return raw.__func__
    return raw.fget if isinstance(raw, property) else raw


def parameter_names(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)


def public_members(public_name: str, cls: type) -> list[Member]:
    """Every jaxscope definition of the public methods (and ``__call__``) and properties
    of ``cls``, in ``cls`` and its jaxscope base classes.

    A method needs a ``>>>`` example where it is introduced (the base-most jaxscope class
    defining it). An override with the same parameters is the same API: its own
    docstring needs only a summary, and without one it shows the base's (as `help` and
    `inspect.getdoc` do). An override with other parameters is a new API and needs its
    own example, except Layer's subclassing hooks (`SUBCLASS_HOOKS`), which
    `Layer.__call__` calls and `Layer` documents with an example.
    """
    mro = [klass for klass in cls.__mro__ if is_jaxscope(klass)]
    names = {name for klass in mro for name in vars(klass)}
    members = []
    for name in sorted(names):
        if name.startswith("_") and name != "__call__":
            continue
        owners = [klass for klass in mro if name in vars(klass)]
        raws = [vars(klass)[name] for klass in owners]
        if not isinstance(raws[0], (property, staticmethod, classmethod, types.FunctionType)):
            continue  # data, not API
        functions = [unwrap(raw) for raw in raws]
        if functions[0].__name__ != name and functions[0].__name__ in names:
            continue  # an alias (Layer.apply = Layer.__call__): checked under its own name
        for i, (owner, raw, function) in enumerate(zip(owners, raws, functions)):
            if not getattr(function, "__qualname__", "").startswith(owner.__qualname__ + "."):
                continue  # a module-level function kept as a class attribute: checked as itself
            doc_source = next((f for f in functions[i:] if f.__doc__), None)
            kind = "property" if isinstance(raw, property) else "method"
            if kind == "property":
                needs_example = False
            elif i == len(owners) - 1:
                needs_example = True  # introduced here
            else:
                needs_example = name not in SUBCLASS_HOOKS and (
                    parameter_names(function) != parameter_names(functions[i + 1])
                )
                if needs_example:
                    doc_source = function  # a new API: its own docstring
            label = (
                f"{public_name}.{name}" if owner is cls
                else f"{owner.__module__}.{owner.__qualname__}.{name}"
            )
            members.append(Member(label, kind, function, doc_source, needs_example))
    return members


class Check(NamedTuple):
    """One documented thing: its docstring must have a summary and maybe an example."""

    label: str  # how the failure message names it
    doc_source: object | None  # the object whose ``__doc__`` documents it
    needs_example: bool

    @property
    def doc(self) -> str | None:
        return None if self.doc_source is None else self.doc_source.__doc__


def checks() -> list[Check]:
    """Every public function, class, module, constant, method and property, once."""
    found: list[Check] = []
    seen_members: set[int] = set()
    symbols = public_symbols()
    # base classes first, so an inherited method is named after the class defining it
    order = sorted(symbols, key=lambda n: len(getattr(symbols[n], "__mro__", ())))
    for name in order:
        obj = symbols[name]
        if name in NOT_DOCUMENTABLE:
            continue
        if isinstance(obj, np.dtype):
            # TF's dtype names (js.float32): NumPy's dtypes, documented with their module
            found.append(Check(name, sys.modules[DTYPES_MODULE], needs_example=True))
            continue
        if not (inspect.isclass(obj) or callable(obj) or isinstance(obj, types.ModuleType)):
            # a constant such as AUTO_REUSE: documented by its type's docstring
            found.append(Check(name, type(obj), needs_example=True))
            continue
        found.append(Check(name, obj, needs_example=name not in NO_EXAMPLE_NEEDED))
        if not inspect.isclass(obj) or name in NO_EXAMPLE_NEEDED:
            continue
        for member in public_members(name, obj):
            if id(member.key) not in seen_members:
                seen_members.add(id(member.key))
                found.append(Check(member.label, member.doc_source, member.needs_example))
    return found


def all_problems() -> tuple[list[str], int]:
    """Every offender, and how many symbols (functions, classes, methods, ...) were checked."""
    problems: list[str] = []
    found = checks()
    for check in found:
        problem = summary_problem(check.doc)
        if problem:
            problems.append(f"{check.label}: {problem}")
        if check.needs_example and not has_example(check.doc):
            problems.append(f"{check.label}: no >>> example")
    return problems, len(found)


def doctest_name(obj: object) -> str:
    """The name `doctest` gives the examples in ``obj``'s docstring."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    return f"{obj.__module__}.{obj.__qualname__}"


def collected_doctests() -> set[str]:
    """Names of the docstrings with examples that ``pytest --doctest-modules`` runs."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    modules = [js] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(js.__path__, "jaxscope.")
    ]
    return {test.name for module in modules for test in finder.find(module) if test.examples}


def test_every_public_symbol_has_a_summary_and_an_example():
    problems, checked = all_problems()
    assert checked > 300, f"only {checked} public symbols found: is the walk broken?"
    assert not problems, f"{len(problems)} docstring problems:\n" + "\n".join(problems)


def test_every_example_runs_as_a_doctest():
    # An example that doctest does not find (a docstring set at run time, a function
    # defined in another module than it claims) would never run: it could rot.
    collected = collected_doctests()
    lost = sorted(
        f"{check.label} (doctest name {doctest_name(check.doc_source)})"
        for check in checks()
        if check.needs_example and has_example(check.doc)
        and doctest_name(check.doc_source) not in collected
    )
    assert not lost, "examples doctest does not collect:\n" + "\n".join(lost)


def test_transformed_functions_are_documented():
    # init/apply/specs are closures made per model, so doctest cannot find them: their
    # examples live in Transformed's docstring, each named there.
    example_lines = [
        line for line in inspect.getdoc(js.Transformed).splitlines()
        if line.lstrip().startswith((">>> ", "... "))
    ]
    missing = [
        field for field in TRANSFORMED_FIELDS
        if not any(f".{field}(" in line for line in example_lines)
    ]
    assert not missing, f"Transformed's docstring has no example calling {missing}"

    def model(x):
        """A model."""
        return x

    transformed = js.transform(model)
    problems = []
    for field in TRANSFORMED_FIELDS:
        problem = summary_problem(inspect.getdoc(getattr(transformed, field)))
        if problem:
            problems.append(f"transform(model).{field}: {problem}")
    assert not problems, "\n".join(problems)


def test_allow_lists_name_real_public_symbols():
    symbols = public_symbols()
    stale = sorted((NO_EXAMPLE_NEEDED | NOT_DOCUMENTABLE) - set(symbols))
    assert not stale, f"allow-listed names that are not public symbols: {stale}"
    for name in NO_EXAMPLE_NEEDED:
        assert issubclass(symbols[name], Exception), f"{name} is allow-listed but not an error"
    for name in NOT_DOCUMENTABLE:
        obj = symbols[name]
        assert not (inspect.isclass(obj) or inspect.isroutine(obj)), f"{name} can be documented"
