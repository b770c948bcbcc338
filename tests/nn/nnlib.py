"""Shared helpers of the ``js.nn`` tests: TF fixtures, numeric checks, transform checks."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "tf_ops"
RTOL, ATOL = 1e-5, 1e-6


@functools.cache
def _family(family: str) -> tuple[list[dict], dict[str, np.ndarray]]:
    spec = json.loads((FIXTURES / f"{family}.json").read_text())
    with np.load(FIXTURES / f"{family}.npz") as npz:
        arrays = {key: npz[key] for key in npz.files}
    return spec["cases"], arrays


def fixture_cases(family: str, select: Callable[[dict], bool] = lambda case: True) -> list:
    """``pytest.param(case, tensors)`` per case of a TF fixture family (a skip if absent).

    ``tensors`` maps each tensor name of the case (without the ``<case>/`` prefix) to its
    array.
    """
    if not (FIXTURES / f"{family}.json").exists():
        reason = f"TF fixture {FIXTURES / family}.json not found (shared/ checkout absent)"
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=reason))]
    cases, arrays = _family(family)
    params = []
    for case in cases:
        if not select(case):
            continue
        prefix = case["name"] + "/"
        tensors = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
        params.append(pytest.param(case, tensors, id=case["name"]))
    return params


def assert_close(actual: Any, expected: Any, rtol: float = RTOL, atol: float = ATOL) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def check_grad(fn: Callable[..., Any], *args: Any, argnums: Sequence[int] = (0,),
               eps: float = 1e-6, rtol: float = 1e-5, directions: int = 3) -> None:
    """``jax.grad`` of ``sum(w * fn(*args))`` matches central differences, in float64.

    Checks directional derivatives along a few random directions of every differentiated
    argument; float arguments are promoted to float64 for the check.
    """
    rs = np.random.RandomState(0)
    with jax.enable_x64(True):
        args64 = [_as64(a) for a in args]
        out_shape = jax.eval_shape(fn, *args64).shape
        weights = rs.normal(size=out_shape)

        def loss(*a):
            return jnp.sum(weights * fn(*a))

        # One compiled function serves both the gradient and the finite differences.
        value_and_grad = jax.jit(jax.value_and_grad(loss, argnums=tuple(argnums)))
        _, grads = value_and_grad(*args64)
        for i, grad in zip(argnums, grads):
            for _ in range(directions):
                v = rs.normal(size=np.shape(args64[i]))
                plus, minus = list(args64), list(args64)
                plus[i] = args64[i] + eps * v
                minus[i] = args64[i] - eps * v
                numeric = (value_and_grad(*plus)[0] - value_and_grad(*minus)[0]) / (2 * eps)
                analytic = float(np.sum(np.asarray(grad) * v))
                assert np.isclose(analytic, float(numeric), rtol=rtol, atol=1e-7), (
                    f"argument {i}: grad . v = {analytic}, finite differences {float(numeric)}"
                )


def _as64(a: Any) -> Any:
    if isinstance(a, (np.ndarray, jax.Array)) and jnp.issubdtype(a.dtype, jnp.floating):
        return np.asarray(a, np.float64)  # numpy: perturbing it compiles nothing
    return a


def check_jit_vmap(fn: Callable[..., Any], x: Any, *rest: Any, rtol: float = 1e-5) -> None:
    """Under ``jax.jit``, ``jax.vmap`` of ``fn`` over a stack of two ``x`` equals ``fn`` on each.

    (Eager calls are what the reference tests make; one compiled function keeps this cheap.)
    """
    def both(stacked, *rest):
        batched = jax.vmap(fn, in_axes=(0,) + (None,) * len(rest))(stacked, *rest)
        return batched, [fn(stacked[i], *rest) for i in range(2)]

    x2 = np.asarray(x) * 0.5 - 0.25
    batched, singles = jax.jit(both)(np.stack([x, x2]), *rest)
    for i, single in enumerate(singles):
        for a, b in zip(jax.tree.leaves(batched), jax.tree.leaves(single)):
            assert_close(np.asarray(a)[i], b, rtol=rtol)


def check_transforms(fn: Callable[..., Any], *args: Any, argnums: Sequence[int] = (0,),
                     rtol: float = 1e-5) -> None:
    """`check_jit_vmap` over the first argument, then `check_grad` over ``argnums``."""
    check_jit_vmap(fn, *args)
    check_grad(fn, *args, argnums=argnums, rtol=rtol)


def randn(*shape: int, seed: int = 0, dtype: Any = np.float32) -> np.ndarray:
    return np.random.RandomState(seed).normal(size=shape).astype(dtype)


def primitives(fn: Callable[..., Any], *args: Any) -> list[str]:
    """Names of the primitives in ``fn``'s jaxpr (top level and nested)."""
    names: list[str] = []

    def walk(jaxpr: Any) -> None:
        for eqn in jaxpr.eqns:
            names.append(eqn.primitive.name)
            for sub in jax.extend.core.jaxprs_in_params(eqn.params):
                walk(sub)

    walk(jax.make_jaxpr(fn)(*args).jaxpr)
    return names


def tf_same(size: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """TF's SAME padding as its docs state it: out = ceil(in/s), the odd pixel at the end."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2
