"""Helpers shared by the seed tests (``test_seed_*.py`` in this folder).

Not a test module: pytest puts this folder on ``sys.path`` when it imports a seed test
(default "prepend" import mode, no ``__init__.py`` here), so the seed tests import it as
``from seedlib import run_both, ...``.

Every seed snippet runs under `js.transform` both as the create trace (``init``) and as the
reuse trace (``apply`` over init's variables): `run_both` does that and keeps what each trace
returned.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import jax
import pytest

import jaxscope as js

# TF's error texts (first sentence verbatim); ``.format`` them with the variable's full name.
EXISTS = (
    "Variable {} already exists, disallowed. Did you mean to set reuse=True or "
    "reuse=tf.AUTO_REUSE in VarScope?"
)
MISSING = (
    "Variable {} does not exist, or was not created with tf.get_variable(). Did you mean to "
    "set reuse=tf.AUTO_REUSE in VarScope?"
)


def run_both(fn, *args, rng=0, **kwargs):
    """Run ``fn`` as init and as apply; keep what each trace returned."""
    outs = []

    def traced(*a, **k):
        out = fn(*a, **k)
        outs.append(out)
        return out

    model = js.transform(traced)
    variables = model.init(jax.random.key(rng), *args, **kwargs)
    out, aux = model.apply(variables, *args, **kwargs)
    assert len(outs) == 2
    return SimpleNamespace(model=model, variables=variables, init_out=outs[0], out=out, aux=aux)


def jit_apply(run, *args):
    """The jitted apply over ``run``'s variables: ``(out, aux)``."""
    return jax.jit(run.model.apply)(run.variables, *args)


def op_names(run, *args):
    """Op names (without the ``jit(<lambda>)/`` prefix) in the lowered apply."""
    lowered = jax.jit(lambda v, *a: run.model.apply(v, *a)[0]).lower(run.variables, *args)
    return set(re.findall(r'loc\("jit\(<lambda>\)/([^"]+)"', lowered.as_text(debug_info=True)))


def assert_raises_in_both(fn, variables, message, *args, error=ValueError):
    """``fn`` fails with ``message`` in init, and in apply over ``variables``.

    Returns the error init raised, for further checks.
    """
    model = js.transform(fn)
    with pytest.raises(error, match=re.escape(message)) as init_error:
        model.init(jax.random.key(0), *args)
    with pytest.raises(error, match=re.escape(message)):
        model.apply(variables, *args)
    return init_error.value


def assert_one_shared_variable(fn, name):
    """``fn`` returns two handles that are one variable, ``name``, its only variable.

    TF's ``v1 = get_variable(...)`` after reuse, then ``assert v1 == v``: in both traces the
    second handle is the very array the first one is. Returns the run, for further checks.
    """
    run = run_both(fn)
    assert list(run.variables["params"]) == [name]
    for first, second in (run.init_out, run.out):
        assert second is first
    return run


def empty(**params):
    """Variables with the given params and no state."""
    return {"params": params, "state": {}}
