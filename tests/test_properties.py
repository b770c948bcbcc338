"""Property tests: random nested scope programs, run by jaxscope and by a TF1 reference model.

A *program* is a tree of operations: enter ``variable_scope(name, reuse=...)``,
``variable_scope(None, default_name=...)``, re-enter a captured scope, ``name_scope``,
``get_variable``, ``js.Variable``, ``reuse_variables()``, capture the current scope,
define a ``make_template`` (deferred or ``create_scope_now_``, maybe ``unique_name_``),
call a visible template, and ``try`` a block (catch its error and go on). Programs are
not filtered: many are ones TF1 refuses (creating twice without reuse, reusing a
missing name, shape or dtype mismatch, a trainable variable on a later template call).

One `Walker` interprets a program against a backend: `JsBackend` calls jaxscope
inside a transformed function; `RefBackend` is a small independent model of TF1's
rules (TF_SEMANTICS.md sections 1, 2 and 5, and API.md's decisions 3 and 4) that
predicts the error, every created variable's key in creation order, and the key of
every fetch. The walker catches the first error at the top of the program, so ``init``
returns the variables made before it and ``apply`` over them must fail the same way.

Properties:
1. init and apply agree: same outcome (same errors, caught or not), same output (the
   sum of every fetched value), which equals the same sum computed outside from init's
   variables; a name fetched twice is the same array object within a trace; the op
   name scope at every fetch is TF1's.
2. ``jax.jit(model.apply)`` equals ``model.apply``.
3. Names are unique and every key of init's variables is one the program made: the
   keys (split into params and state) are exactly the reference's, in creation order,
   and there are as many as the trace created (``global_variables``).
4. ``init`` is deterministic for a given rng, and a variable's initial value depends
   only on its name: adding an unrelated variable anywhere changes no other value.
5. ``specs()`` reports init's names, order, shapes, dtypes and params/state split.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jaxscope as js

SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
KEY = jax.random.key(0)

# -- programs ------------------------------------------------------------------------------------
# Scope names overlap variable names ("v"): a name scope and a variable compete for the same
# graph name, which TF1 resolves with one counter (see the fixed program at the end).
# Graph names are case-insensitive ("A" collides with "a") and may hold "/" ("a/b").
SCOPE_NAMES = st.sampled_from(["a", "b", "a", "b", "A", "a/b", "v"])
GET_NAMES = st.sampled_from(["v", "w", "v", "w", "V"])
VARIABLE_NAMES = st.sampled_from(["v", "w", "t", "V"])  # overlaps get_variable's (decision 4)
SHAPES = st.sampled_from([(), (2,), (2, 3)])
REUSES = st.sampled_from([None, False, True, "auto", "auto"])

GET = st.tuples(
    st.just("get"), GET_NAMES, SHAPES, st.sampled_from([None, None, "int32"]), st.booleans()
)
LEAVES = st.one_of(
    GET,
    GET,
    st.tuples(st.just("var"), VARIABLE_NAMES, st.booleans()),
    st.tuples(st.just("tcall"), st.integers(0, 3)),
    st.tuples(st.just("tcall"), st.integers(0, 3)),
    st.tuples(st.just("capture_current")),
    st.tuples(st.just("reuse_vars")),
)


def _with_bodies(ops: st.SearchStrategy) -> st.SearchStrategy:
    body = st.lists(ops, max_size=4).map(tuple)
    return st.one_of(
        st.tuples(st.just("vs"), SCOPE_NAMES, REUSES, body),
        st.tuples(st.just("vs_default"), SCOPE_NAMES, body),
        st.tuples(st.just("reenter"), st.integers(0, 7), REUSES, body),
        st.tuples(st.just("ns"), SCOPE_NAMES, body),
        st.tuples(st.just("try"), body),
        st.tuples(
            st.just("tdef"), SCOPE_NAMES, st.booleans(),
            st.sampled_from([None, None, "a", "b", "A"]), body,
        ),
    )


OPS = st.recursive(LEAVES, _with_bodies, max_leaves=14)
PROGRAMS = st.lists(OPS, min_size=1, max_size=6).map(tuple)


def join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


# -- the walker: one interpretation of a program, backend-independent -----------------------------
class Walker:
    """Runs a program against a backend; templates are lexically scoped per block.

    A template defined in a block sees the templates visible at its definition
    (never itself), and a template already running is not called again, so no
    program recurses.
    """

    def __init__(self, backend: Any):
        self.backend = backend
        self.captured: list[Any] = []
        self.active: set[int] = set()

    def run(self, ops: tuple, env: tuple) -> None:
        local: list[Any] = []
        env = (*env, local)
        for op in ops:
            self.step(op, env, local)

    def step(self, op: tuple, env: tuple, local: list) -> None:
        b, kind = self.backend, op[0]
        if kind == "get":
            b.get(*op[1:])
        elif kind == "var":
            b.var(*op[1:])
        elif kind == "reuse_vars":
            b.reuse_vars()
        elif kind == "extra":  # an unrelated variable that leaves the captured list alone
            with b.vs("zz", "auto"):
                b.get("v", (3,), None, True)
        elif kind == "capture_current":
            self.captured.append(b.current_scope())
        elif kind == "tcall":
            visible = [t for table in env for t in table]
            if visible:
                tmpl = visible[op[1] % len(visible)]
                if id(tmpl) not in self.active:
                    self.active.add(id(tmpl))
                    try:
                        b.call_template(tmpl)
                    finally:
                        self.active.discard(id(tmpl))
        elif kind == "tdef":
            _, name, create_now, unique, body = op
            snapshot = tuple(list(table) for table in env)
            local.append(b.make_template(name, lambda: self.run(body, snapshot), create_now,
                                         unique))
        elif kind == "ns":
            with b.ns(op[1]):
                self.run(op[2], env)
        elif kind == "try":  # catch the body's error and go on, as Python code may
            try:
                self.run(op[1], env)
            except Exception as exc:
                b.caught(exc)
        else:
            if kind == "vs":
                context = b.vs(op[1], op[2])
            elif kind == "vs_default":
                context = b.vs_default(op[1])
            elif not self.captured:  # "reenter" with nothing captured yet: just the body
                self.run(op[3], env)
                return
            else:
                context = b.reenter(self.captured[op[1] % len(self.captured)], op[2])
            with context as scope:
                self.captured.append(scope)
                self.run(op[-1], env)


# -- jaxscope backend ----------------------------------------------------------------------------
def _js_reuse(reuse: Any) -> Any:
    return js.AUTO_REUSE if reuse == "auto" else reuse


VARIABLE_VALUE = np.array([1.0, 2.0], np.float32)


class JsBackend:
    def __init__(self) -> None:
        self.fetched: list[jax.Array] = []
        self.name_scopes: list[str] = []  # the op name scope at each fetch
        self.errors: list[str] = []  # errors caught by "try" blocks

    def caught(self, exc):
        self.errors.append(f"{error_kind(exc)}: {str(exc).splitlines()[0]}")

    def vs(self, name, reuse):
        return js.variable_scope(name, reuse=_js_reuse(reuse))

    def vs_default(self, name):
        return js.variable_scope(None, default_name=name)

    def reenter(self, scope, reuse):
        return js.variable_scope(scope, reuse=_js_reuse(reuse))

    def ns(self, name):
        return js.name_scope(name)

    def reuse_vars(self):
        js.get_variable_scope().reuse_variables()

    def current_scope(self):
        return js.get_variable_scope()

    def get(self, name, shape, dtype, trainable):
        self.fetched.append(js.get_variable(name, shape=shape, dtype=dtype, trainable=trainable))
        self.name_scopes.append(js.current_name_scope())

    def var(self, name, trainable):
        self.fetched.append(js.Variable(VARIABLE_VALUE, trainable=trainable, name=name))
        self.name_scopes.append(js.current_name_scope())

    def make_template(self, name, fn, create_now, unique):
        return js.make_template(name, fn, create_scope_now_=create_now, unique_name_=unique)

    def call_template(self, tmpl):
        tmpl()


def error_kind(exc: Exception) -> str:
    for cls, kind in (
        (js.VariableExistsError, "exists"),
        (js.VariableMissingError, "missing"),
        (js.VariableShapeError, "shape"),
        (js.VariableDtypeError, "dtype"),
    ):
        if isinstance(exc, cls):
            return kind
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, ValueError) and first_line.startswith(
        "Trainable variable created when calling a template after the first time"
    ):
        return "template"
    return f"unexpected {type(exc).__name__}: {first_line}"


@dataclasses.dataclass
class Trace:
    """What one jaxscope trace of a program saw (kept outside the trace)."""

    error: str | None  # error_kind of the first uncaught error, or None
    message: str | None  # its first line
    caught: list[str]  # errors caught by "try" blocks, with their first lines
    fetched: list[Any]
    name_scopes: list[str]
    total: Any
    created: int  # len(js.global_variables()) at the end


def transformed(program: tuple, sink: list[Trace]) -> js.Transformed:
    """The program as a transformed function returning the sum of every fetched value."""

    def fn():
        backend = JsBackend()
        error = None
        try:
            Walker(backend).run(program, ())
        except Exception as exc:  # the first error ends the program, as in TF
            error = exc
        total = jnp.zeros((), jnp.float32)
        for value in backend.fetched:
            total = total + jnp.sum(value.astype(jnp.float32))
        sink.append(Trace(
            None if error is None else error_kind(error),
            None if error is None else (str(error).splitlines() or [""])[0],
            backend.errors,
            backend.fetched, backend.name_scopes, total, len(js.global_variables()),
        ))
        return total

    return js.transform(fn)


# -- the TF1 reference model -----------------------------------------------------------------------
class RefError(Exception):
    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


@dataclasses.dataclass(eq=False)
class RefScope:
    name: str
    reuse: Any  # False, True or "auto"


@dataclasses.dataclass(eq=False)
class RefTemplate:
    name: str
    fn: Any
    create_now: bool
    unique: str | None
    scope: RefScope | None = None
    first_call: bool = True
    created: bool = False


class RefBackend:
    """TF1 graph-mode naming and reuse, written from TF_SEMANTICS.md, independent of jaxscope."""

    def __init__(self) -> None:
        self.current = RefScope("", False)
        self.names_in_use: dict[str, int] = {}
        self.name_stack = ""
        self.counts: dict[str, int] = {}
        self.store: dict[str, str] = {}  # get_variable full name -> key (its tensor name)
        self.records: dict[str, tuple] = {}  # key -> (shape, dtype name, trainable)
        self.trainable: list[str] = []  # the TRAINABLE_VARIABLES collection
        self.fetches: list[str] = []
        self.name_scopes: list[str] = []
        self.errors: list[str] = []

    def caught(self, exc):
        if not isinstance(exc, RefError):
            raise exc
        self.errors.append(exc.kind)

    # Graph.unique_name (TF_SEMANTICS.md 1.5)
    def unique_name(self, name: str) -> str:
        key = name.lower()
        i = self.names_in_use.get(key, 0)
        self.names_in_use[key] = i + 1
        if i > 0:
            base = key
            while key in self.names_in_use:
                key = f"{base}_{i}"
                i += 1
            self.names_in_use[key] = 1
            name = f"{name}_{i - 1}"
        return name

    # _get_unique_variable_scope (1.2)
    def unique_scope(self, prefix: str) -> str:
        name = join(self.current.name, prefix)
        if self.counts.get(name, 0) == 0:
            return prefix
        idx = 1
        while self.counts.get(f"{name}_{idx}", 0) > 0:
            idx += 1
        return f"{prefix}_{idx}"

    @contextlib.contextmanager
    def ns(self, name: str):
        old = self.name_stack
        self.name_stack = self.unique_name(join(old, name))
        try:
            yield self.name_stack + "/"
        finally:
            self.name_stack = old

    @contextlib.contextmanager
    def _string_scope(self, name: str, reuse: Any):
        old = self.current
        new_name = join(old.name, name)
        self.counts[new_name] = self.counts.get(new_name, 0) + 1
        self.current = RefScope(new_name, reuse or old.reuse)
        try:
            yield self.current
        finally:
            for key in self.counts:  # close_variable_subscopes
                if key.startswith(new_name + "/"):
                    self.counts[key] = 0
            self.current = old

    @contextlib.contextmanager
    def _captured_scope(self, captured: RefScope, reuse: Any):
        old = self.current
        self.counts[captured.name] = self.counts.get(captured.name, 0) + 1
        snapshot = dict(self.counts)
        self.current = RefScope(captured.name, reuse or captured.reuse)  # TF: `c if not r else r`
        try:
            yield self.current
        finally:
            self.counts = snapshot
            self.current = old

    @contextlib.contextmanager
    def vs(self, name: str, reuse: Any):
        reuse = None if reuse is False else reuse
        with self.ns(name), self._string_scope(name, reuse) as scope:
            yield scope

    @contextlib.contextmanager
    def vs_default(self, name: str):
        with self.ns(name), self._string_scope(self.unique_scope(name), None) as scope:
            yield scope

    @contextlib.contextmanager
    def reenter(self, captured: RefScope, reuse: Any):
        reuse = None if reuse is False else reuse
        last = captured.name.split("/")[-1]
        with self.ns(last) if last else contextlib.nullcontext():
            with self._captured_scope(captured, reuse) as scope:
                yield scope

    def reuse_vars(self) -> None:
        self.current.reuse = True

    def current_scope(self) -> RefScope:
        return self.current

    def get(self, name, shape, dtype, trainable) -> None:
        full = join(self.current.name, name)
        reuse = self.current.reuse
        wanted = dtype or "float32"
        if full in self.store:
            key = self.store[full]
            if reuse is False:
                raise RefError("exists")
            found_shape, found_dtype, _ = self.records[key]
            if shape != found_shape:
                raise RefError("shape")
            if dtype is not None and wanted != found_dtype:  # decision 3: None accepts
                raise RefError("dtype")
            self.fetches.append(key)
            self.name_scopes.append(self.name_stack)
            return
        if reuse is True:
            raise RefError("missing")
        key = self.unique_name(full)  # the tensor name (decision 4)
        self.store[full] = key
        self._create(key, shape, wanted, trainable)

    def var(self, name, trainable) -> None:
        self._create(self.unique_name(join(self.name_stack, name)), (2,), "float32", trainable)

    def _create(self, key, shape, dtype, trainable) -> None:
        self.records[key] = (shape, dtype, trainable)
        if trainable:
            self.trainable.append(key)
        self.fetches.append(key)
        self.name_scopes.append(self.name_stack)

    def make_template(self, name, fn, create_now, unique) -> RefTemplate:
        tmpl = RefTemplate(name, fn, create_now, unique)
        if create_now:  # _pure_variable_scope at construction: no name scope
            with self._string_scope(unique or self.unique_scope(name), None) as scope:
                tmpl.scope = scope
        return tmpl

    def call_template(self, tmpl: RefTemplate) -> None:
        if tmpl.scope is not None:
            with self.reenter(tmpl.scope, None if tmpl.first_call else True):
                self._call_func(tmpl)
            return
        opened = self.vs(tmpl.unique, None) if tmpl.unique else self.vs_default(tmpl.name)
        with opened as scope:
            tmpl.scope = scope
            self._call_func(tmpl)

    def _call_func(self, tmpl: RefTemplate) -> None:
        if tmpl.created:
            before = len(self.trainable)
            tmpl.fn()
            if len(self.trainable) != before:
                raise RefError("template")
            return
        tmpl.first_call = False
        try:
            tmpl.fn()
        except BaseException:
            tmpl.first_call = True
            raise
        tmpl.created = True


@dataclasses.dataclass
class Expected:
    error: str | None
    records: dict[str, tuple]
    fetches: list[str]
    name_scopes: list[str]
    caught: list[str]

    def keys(self, part: str) -> list[str]:
        def in_params(record: tuple) -> bool:
            return record[1] == "float32" and record[2]

        return [k for k, r in self.records.items() if in_params(r) == (part == "params")]


def reference(program: tuple) -> Expected:
    backend = RefBackend()
    error = None
    try:
        Walker(backend).run(program, ())
    except RefError as exc:
        error = exc.kind
    return Expected(error, backend.records, backend.fetches, backend.name_scopes,
                    backend.errors)


# -- helpers -------------------------------------------------------------------------------------
def check_identity(fetched: list, keys: list[str]) -> None:
    """A name fetched twice (never assigned) is the same array object within one trace."""
    assert len(fetched) == len(keys)
    first: dict[str, Any] = {}
    for value, key in zip(fetched, keys):
        if key in first:
            assert value is first[key], f"two fetches of {key} are different objects"
        else:
            first[key] = value
            assert all(value is not other for k, other in first.items() if k != key), key


def assert_trees_equal(a: Any, b: Any) -> None:
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


def sum_of(variables: dict, keys: list[str]) -> float:
    flat = {**variables["params"], **variables["state"]}
    return float(sum(np.sum(np.asarray(flat[k], np.float64)) for k in keys))


# -- properties -----------------------------------------------------------------------------------
@SETTINGS
@given(PROGRAMS)
def test_init_and_apply_agree_with_each_other_and_with_tf1(program):
    """Properties 1 and 3: same outcome and output in init and apply; TF1's names and errors."""
    expected = reference(program)
    sink: list[Trace] = []
    model = transformed(program, sink)

    variables = model.init(KEY)
    init_trace = sink[-1]
    assert init_trace.error == expected.error
    assert [c.split(":")[0] for c in init_trace.caught] == expected.caught
    # 3: exactly the variables the program made, uniquely named, as TF1 names them.
    assert list(variables["params"]) == expected.keys("params")
    assert list(variables["state"]) == expected.keys("state")
    assert init_trace.created == len(variables["params"]) + len(variables["state"])
    for part in ("params", "state"):
        for key, value in variables[part].items():
            shape, dtype, _ = expected.records[key]
            assert value.shape == shape and value.dtype == np.dtype(dtype), key
    check_identity(init_trace.fetched, expected.fetches)
    assert init_trace.name_scopes == expected.name_scopes  # op names, as TF's graph

    # 1: apply over init's variables runs the same program to the same end.
    out, aux = model.apply(variables)
    apply_trace = sink[-1]
    assert (apply_trace.error, apply_trace.message) == (init_trace.error, init_trace.message)
    assert apply_trace.caught == init_trace.caught
    np.testing.assert_array_equal(out, init_trace.total)
    np.testing.assert_allclose(float(out), sum_of(variables, expected.fetches), rtol=1e-5,
                               atol=1e-5)
    check_identity(apply_trace.fetched, expected.fetches)
    assert apply_trace.name_scopes == init_trace.name_scopes
    assert aux.updates == {"params": {}, "state": {}}  # the programs assign nothing
    assert aux.losses == {}


@SETTINGS
@given(PROGRAMS)
def test_jit_apply_equals_apply(program):
    """Property 2: ``jax.jit(model.apply)`` gives apply's output, variables and outcome."""
    sink: list[Trace] = []
    model = transformed(program, sink)
    variables = model.init(KEY)
    out, aux = model.apply(variables)
    eager_trace = sink[-1]
    jit_out, jit_aux = jax.jit(model.apply)(variables)
    jit_trace = sink[-1]
    assert (jit_trace.error, jit_trace.message) == (eager_trace.error, eager_trace.message)
    assert jit_trace.caught == eager_trace.caught
    np.testing.assert_allclose(jit_out, out, rtol=1e-5, atol=1e-5)
    assert_trees_equal(jit_aux.updates, aux.updates)
    assert jit_aux.losses == aux.losses == {}


EXTRA = ("extra",)


@SETTINGS
@given(PROGRAMS, st.data())
def test_init_is_deterministic_and_keyed_by_name(program, data):
    """Property 4: same rng, same values; an unrelated extra variable changes no other value."""
    model = transformed(program, [])
    variables = model.init(KEY)
    assert_trees_equal(model.init(KEY), variables)
    assert_trees_equal(model.init(0), variables)  # an int seed is jax.random.key(seed)

    where = data.draw(st.integers(0, len(program)), label="insert the extra variable at")
    bigger_program = (*program[:where], EXTRA, *program[where:])
    sink: list[Trace] = []
    bigger = transformed(bigger_program, sink).init(KEY)
    for part in ("params", "state"):
        extra = set(bigger[part]) - set(variables[part])
        assert extra <= {"zz/v"}
        for key, value in variables[part].items():
            np.testing.assert_array_equal(bigger[part][key], value, err_msg=key)


@SETTINGS
@given(PROGRAMS)
def test_specs_match_init(program):
    """Property 5: ``specs()`` has init's names in creation order, shapes, dtypes and split."""
    model = transformed(program, [])
    variables = model.init(KEY)
    specs = model.specs()
    expected = reference(program)
    assert list(specs) == list(expected.records)  # creation order across params and state
    assert set(specs) == set(variables["params"]) | set(variables["state"])
    for name, spec in specs.items():
        assert spec.name == name
        value = variables[spec.collection][name]
        assert spec.shape == value.shape, name
        assert spec.dtype == value.dtype, name
        assert spec.trainable == expected.records[name][2], name


# -- a few fixed programs, so the interesting shapes of program always run ------------------------
FIXED_PROGRAMS = {
    "sharing_template": (
        ("tdef", "a", False, None, (("get", "v", (2,), None, True),)),
        ("tcall", 0), ("tcall", 0),
        ("vs", "b", None, (("tcall", 0),)),
    ),
    "default_names_and_jump": (
        ("vs", "a", None, (
            ("vs_default", "b", (("get", "v", (), None, True),)),
            ("vs_default", "b", (("get", "v", (), None, True),)),
        )),
        ("reenter", 0, "auto", (("get", "v", (), None, True), ("var", "v", True))),
        ("reenter", 0, None, (("vs_default", "b", (("get", "w", (), None, True),)),)),
    ),
    # TF's docstring: a jump restores default-name counters on exit ("bar instead of bar_2").
    "jump_restores_default_name_counts": (
        ("vs", "a", None, (("vs_default", "b", ()), ("vs_default", "b", ()))),
        ("reenter", 0, "auto", (("vs_default", "b", (("get", "w", (), None, True),)),)),
        ("reenter", 0, "auto", (("vs_default", "b", (("get", "w", (), None, True),)),)),
        ("reenter", 0, "auto", (("vs_default", "b", (("get", "w", (), None, True),)),
                                ("vs_default", "b", (("get", "w", (), None, True),)))),
    ),
    "variable_then_get_same_name": (
        ("vs", "a", "auto", (("var", "v", True), ("get", "v", (2,), None, True),
                             ("get", "v", (2,), None, True), ("var", "v", False))),
    ),
    "exists_error": (("get", "v", (), None, True), ("get", "v", (), None, True)),
    "missing_error": (("vs", "a", True, (("get", "v", (), None, True),)),),
    "template_trainable_variable_later": (
        ("tdef", "a", True, None, (("var", "t", True),)), ("tcall", 0), ("tcall", 0),
    ),
    "nested_templates": (
        ("tdef", "a", False, None, (
            ("tdef", "b", False, None, (("get", "v", (), "int32", True),)),
            ("tdef", "b", True, None, (("get", "v", (), None, False),)),
            ("tcall", 1), ("tcall", 2),
        )),
        ("tcall", 0), ("tcall", 0),
    ),
}


def test_fixed_programs_satisfy_the_properties():
    """The properties above on hand-picked programs (sharing, jumps, errors, nesting)."""
    expected_errors = {
        "exists_error": "exists", "missing_error": "missing",
        "template_trainable_variable_later": "template",
    }
    for name, program in FIXED_PROGRAMS.items():
        assert reference(program).error == expected_errors.get(name), name
        test_init_and_apply_agree_with_each_other_and_with_tf1.hypothesis.inner_test(program)
        test_jit_apply_equals_apply.hypothesis.inner_test(program)
        test_specs_match_init.hypothesis.inner_test(program)


# -- variable and scope names competing for one graph name -------------------------------------
def test_get_variable_named_like_an_earlier_name_scope():
    """TF1 names a variable by its graph op, uniquified against every name already in use.

    ``get_variable`` creates its op under ``ops.name_scope(full_name, "Variable")``, so a
    root ``get_variable("embedding")`` after ``variable_scope("embedding")`` (whose name
    scope took ``embedding``) is ``embedding_1:0``, and a later ``Variable`` is
    ``embedding_2:0``.
    """
    program = (
        ("vs", "embedding", None, (("get", "w", (2,), None, True),)),
        ("get", "embedding", (3,), None, True),
        ("var", "embedding", True),
    )
    expected = reference(program)
    assert list(expected.records) == ["embedding/w", "embedding_1", "embedding_2"]
    variables = transformed(program, []).init(KEY)
    assert list(variables["params"]) == ["embedding/w", "embedding_1", "embedding_2"]
