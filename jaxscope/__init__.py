"""jaxscope: TensorFlow 1 variable sharing (variable_scope, get_variable, make_template) on JAX.

A model is a plain function that calls `get_variable` inside scopes;
`transform` turns it into pure ``init`` and ``apply`` functions.

Example:
  >>> import jax, jax.numpy as jnp, jaxscope as js
  >>> def model(x):
  ...     with js.variable_scope("dense"):
  ...         w = js.get_variable("w", [3, 2])
  ...     return x @ w
  >>> variables = js.transform(model).init(jax.random.key(0), jnp.ones([1, 3]))
  >>> list(variables["params"])
  ['dense/w']
"""

from jaxscope import initializers, layers, nn, ops, regularizers, rnn, train
from jaxscope.assign import assign, assign_add, assign_sub
from jaxscope.collections import (
    GraphKeys,
    add_to_collection,
    filter,  # noqa: A004 - the contract's name
    get_collection,
    get_collection_names,
    global_variables,
    local_variables,
    model_variables,
    trainable_variables,
)
from jaxscope.errors import (
    ApplyVariablesError,
    JaxscopeError,
    MissingRngError,
    NotInTransformError,
    RawTransformError,
    ScopeLifetimeError,
    VariableDtypeError,
    VariableExistsError,
    VariableMissingError,
    VariableShapeError,
)
from jaxscope.getters import variable_creator_scope
from jaxscope.initializers import (
    constant_initializer,
    glorot_normal_initializer,
    glorot_uniform_initializer,
    identity_initializer,
    ones_initializer,
    orthogonal_initializer,
    random_normal_initializer,
    random_uniform_initializer,
    truncated_normal_initializer,
    uniform_unit_scaling_initializer,
    variance_scaling_initializer,
    zeros_initializer,
)
from jaxscope.lift import cond, fori_loop, remat, scan, vmap, while_loop
from jaxscope.losses import add_loss
from jaxscope.ops import *  # noqa: F403 - TF1's generic ops, listed in ops.__all__
from jaxscope.partitioners import (
    fixed_size_partitioner,
    min_max_variable_partitioner,
    variable_axis_size_partitioner,
)
from jaxscope.regularizers import no_regularizer
from jaxscope.scope import (
    AUTO_REUSE,
    VariableScope,
    current_name_scope,
    get_variable_scope,
    name_scope,
    variable_op_scope,
    variable_scope,
)
from jaxscope.sharding import partition_spec, variable_shardings
from jaxscope.spec import VariableAggregation, VariableSpec, VariableSynchronization
from jaxscope.summary import summary
from jaxscope.template import Template, make_template
from jaxscope.transform import Aux, Transformed, merge, next_rng_key, transform
from jaxscope.variables import Variable, get_local_variable, get_variable

__version__ = "0.1.0"

__all__ = [
    "AUTO_REUSE",
    "ApplyVariablesError",
    "Aux",
    "GraphKeys",
    "JaxscopeError",
    "MissingRngError",
    "NotInTransformError",
    "RawTransformError",
    "ScopeLifetimeError",
    "Template",
    "Transformed",
    "Variable",
    "VariableAggregation",
    "VariableDtypeError",
    "VariableExistsError",
    "VariableMissingError",
    "VariableScope",
    "VariableShapeError",
    "VariableSpec",
    "VariableSynchronization",
    "add_loss",
    "add_to_collection",
    "assign",
    "assign_add",
    "assign_sub",
    "cond",
    "constant_initializer",
    "current_name_scope",
    "filter",
    "fixed_size_partitioner",
    "fori_loop",
    "get_collection",
    "get_collection_names",
    "get_local_variable",
    "get_variable",
    "get_variable_scope",
    "global_variables",
    "glorot_normal_initializer",
    "glorot_uniform_initializer",
    "identity_initializer",
    "initializers",
    "layers",
    "local_variables",
    "make_template",
    "merge",
    "min_max_variable_partitioner",
    "model_variables",
    "name_scope",
    "next_rng_key",
    "nn",
    "no_regularizer",
    "ones_initializer",
    "orthogonal_initializer",
    "partition_spec",
    "random_normal_initializer",
    "random_uniform_initializer",
    "regularizers",
    "remat",
    "rnn",
    "scan",
    "summary",
    "train",
    "trainable_variables",
    "transform",
    "truncated_normal_initializer",
    "uniform_unit_scaling_initializer",
    "variable_axis_size_partitioner",
    "variable_creator_scope",
    "variable_op_scope",
    "variable_scope",
    "variable_shardings",
    "variance_scaling_initializer",
    "vmap",
    "while_loop",
    "zeros_initializer",
    *ops.__all__,
]
