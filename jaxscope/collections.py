"""Graph collections: TF1's ``GraphKeys`` as metadata of a trace, and `filter` outside it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jaxscope.frame import CollectionItem, Frame, current_frame


class GraphKeys:
    """Standard collection names, as ``tf.compat.v1.GraphKeys``.

    Example:
      >>> GraphKeys.TRAINABLE_VARIABLES
      'trainable_variables'
    """

    GLOBAL_VARIABLES = "variables"
    VARIABLES = GLOBAL_VARIABLES  # TF1's deprecated alias
    LOCAL_VARIABLES = "local_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    LOSSES = "losses"
    UPDATE_OPS = "update_ops"
    GLOBAL_STEP = "global_step"
    SUMMARIES = "summaries"
    ACTIVATIONS = "activations"
    WEIGHTS = "weights"
    BIASES = "biases"
    CONCATENATED_VARIABLES = "concatenated_variables"


def add_item(frame: Frame, collection: str, item: CollectionItem) -> None:
    frame.collections.setdefault(collection, []).append(item)


def _item_value(frame: Frame, item: CollectionItem) -> Any:
    return frame.values[item.key] if item.key is not None else item.value


def collection_items(frame: Frame, key: str, scope: str | None = None) -> list[CollectionItem]:
    """Items of ``key`` whose name matches ``scope`` as a regex prefix (TF's rule)."""
    items = frame.collections.get(key, [])
    if scope is None:
        return list(items)
    pattern = re.compile(scope)
    return [item for item in items if item.name is not None and pattern.match(item.name)]


def get_collection(key: str, scope: str | None = None) -> list[Any]:
    """Values in collection ``key`` so far, in creation order, as ``tf.get_collection``.

    ``scope`` filters by name with ``re.match`` (a regex prefix), exactly as TF1.

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     with js.variable_scope("d"):
      ...         js.get_variable("v", [3])
      ...     js.get_variable("g", [2])
      ...     return [v.shape for v in js.get_collection(js.GraphKeys.GLOBAL_VARIABLES, "d")]
      >>> model = js.transform(f)
      >>> model.apply(model.init(0))[0]
      [(3,)]
    """
    frame = current_frame("js.get_collection")
    return [_item_value(frame, item) for item in collection_items(frame, key, scope)]


def get_collection_names(key: str, scope: str | None = None) -> list[str | None]:
    """Names of the items `get_collection` would return: variables' full names.

    TF1 code filters variables by ``v.name`` (a GAN's ``d_vars``/``g_vars``); the values
    `get_collection` returns are arrays without names, so ask for the names here (or,
    outside a trace, filter the ``params`` dict with `filter`). ``None`` for items
    without a name.

    Example:
      >>> import jaxscope as js
      >>> def gan():
      ...     with js.variable_scope("discriminator"):
      ...         js.get_variable("d_w", [2])
      ...     with js.variable_scope("generator"):
      ...         js.get_variable("g_w", [2])
      ...     t_vars = js.get_collection_names(js.GraphKeys.TRAINABLE_VARIABLES)
      ...     return [name for name in t_vars if "d_" in name]  # TF1: v.name for v in t_vars
      >>> model = js.transform(gan)
      >>> model.apply(model.init(0))[0]
      ['discriminator/d_w']
    """
    frame = current_frame("js.get_collection_names")
    return [item.name for item in collection_items(frame, key, scope)]


def add_to_collection(name: str, value: Any) -> None:
    """Append ``value`` to collection ``name`` of the current trace.

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     js.add_to_collection("extras", 3)
      ...     return js.get_collection("extras")
      >>> js.transform(f).apply(js.transform(f).init(0))[0]
      [3]
    """
    frame = current_frame("js.add_to_collection")
    add_item(frame, name, CollectionItem(getattr(value, "name", None), None, value))


def global_variables(scope: str | None = None) -> list[Any]:
    """Values of the ``GLOBAL_VARIABLES`` collection (see `get_collection`).

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     js.get_variable("w", [2])
      ...     js.get_variable("step", [], dtype="int32", trainable=False)
      ...     return len(js.global_variables()), len(js.trainable_variables())
      >>> js.transform(f).apply(js.transform(f).init(0))[0]
      (2, 1)
    """
    return get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


def trainable_variables(scope: str | None = None) -> list[Any]:
    """Values of the ``TRAINABLE_VARIABLES`` collection (see `get_collection`).

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     with js.variable_scope("gen"):
      ...         js.get_variable("w", [2])
      ...     js.get_variable("d", [3])
      ...     return [v.shape for v in js.trainable_variables(scope="gen")]
      >>> js.transform(f).apply(js.transform(f).init(0))[0]
      [(2,)]
    """
    return get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope: str | None = None) -> list[Any]:
    """Values of the ``LOCAL_VARIABLES`` collection (see `get_collection`).

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     js.get_local_variable("count", [], dtype="int32")
      ...     return len(js.local_variables())
      >>> js.transform(f).apply(js.transform(f).init(0))[0]
      1
    """
    return get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope: str | None = None) -> list[Any]:
    """Values of the ``MODEL_VARIABLES`` collection (see `get_collection`).

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     js.get_variable("w", [2], collections=[js.GraphKeys.MODEL_VARIABLES])
      ...     return len(js.model_variables()), len(js.global_variables())
      >>> js.transform(f).apply(js.transform(f).init(0))[0]
      (1, 0)
    """
    return get_collection(GraphKeys.MODEL_VARIABLES, scope)


class ScopedVariables:
    """Collection views of what lives under the scope an object captured in this trace.

    Shared by `Template` and `Layer` (TF1's ``variables``, ``trainable_variables``,
    ...): they are read inside the transformed function, and are empty before the
    object's first call. Subclasses say which scope prefix is theirs.
    """

    def _captured_prefix(self, frame: Frame) -> str | None:
        """``"scope/"`` of this object in ``frame``, or None while it owns nothing."""
        raise NotImplementedError

    def _collection(self, key: str) -> list[Any]:
        frame = current_frame(f"{self!r} variables")
        prefix = self._captured_prefix(frame)
        if prefix is None:
            return []
        items = collection_items(frame, key, re.escape(prefix))
        return [_item_value(frame, item) for item in items]

    @property
    def global_variables(self) -> list[Any]:
        """Global variables under this object's scope in the current trace, in creation order."""
        return self._collection(GraphKeys.GLOBAL_VARIABLES)

    @property
    def trainable_variables(self) -> list[Any]:
        """Trainable variables under this object's scope in the current trace."""
        return self._collection(GraphKeys.TRAINABLE_VARIABLES)

    @property
    def local_variables(self) -> list[Any]:
        """Local variables under this object's scope in the current trace."""
        return self._collection(GraphKeys.LOCAL_VARIABLES)

    @property
    def variables(self) -> list[Any]:
        """Global then local variables under this object's scope (TF1's ``weights``)."""
        return self.global_variables + self.local_variables

    @property
    def non_trainable_variables(self) -> list[Any]:
        """Global variables under this object's scope that are not trainable."""
        trainable = {id(v) for v in self.trainable_variables}
        return [v for v in self.global_variables if id(v) not in trainable]

    weights = variables
    trainable_weights = trainable_variables
    non_trainable_weights = non_trainable_variables


def filter(  # noqa: A001 - the contract's name
    tree: Mapping[str, Any], scope: str | None = None, pattern: str | None = None
) -> dict[str, Any]:
    """Entries of a ``{name: value}`` dict under ``scope`` and/or matching ``pattern``.

    ``scope="gen"`` keeps ``gen`` and ``gen/...`` (not ``generator/...``);
    ``pattern`` is a regular expression searched in the name. A whole variables
    dict (``{"params": ..., "state": ...}``) is filtered part by part.

    Example:
      >>> params = {"gen/w": 1, "gen/b": 2, "disc/w": 3, "generator/w": 4}
      >>> filter(params, scope="gen")
      {'gen/w': 1, 'gen/b': 2}
      >>> filter(params, pattern="/w$")
      {'gen/w': 1, 'disc/w': 3, 'generator/w': 4}
    """
    if set(tree) == {"params", "state"} and all(isinstance(v, Mapping) for v in tree.values()):
        return {part: filter(tree[part], scope, pattern) for part in ("params", "state")}
    prefix = scope.rstrip("/") + "/" if scope else None
    regex = re.compile(pattern) if pattern is not None else None
    out = {}
    for name, value in tree.items():
        if prefix is not None and not (name == prefix[:-1] or name.startswith(prefix)):
            continue
        if regex is not None and not regex.search(name):
            continue
        out[name] = value
    return out
