"""Writes and executes the notebooks in this folder (this file is their source).

Each notebook is a list of markdown and code cells below. Running this script builds the
``.ipynb`` files with `nbformat`, executes them with `nbclient` from this folder (as
Jupyter would: paths like ``../examples/data/...`` are relative to ``notebooks/``), and
saves them with their outputs, so they read well on GitHub without running anything.
Edit the cells here, not in the ``.ipynb`` files, then rebuild.

Run:  python notebooks/build.py [NAME ...]     (default: all notebooks; needs the
      "notebooks" extra: pip install -e ".[notebooks]")

`tests/test_notebooks.py` executes the saved notebooks again and checks their key outputs.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import textwrap
import time

import nbformat
from nbclient import NotebookClient

HERE = pathlib.Path(__file__).resolve().parent
CELL_TIMEOUT_SECONDS = 120
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def md(text: str) -> nbformat.NotebookNode:
    """A markdown cell (the text is dedented and stripped)."""
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip())


def code(text: str) -> nbformat.NotebookNode:
    """A code cell (the text is dedented and stripped)."""
    return nbformat.v4.new_code_cell(textwrap.dedent(text).strip())


# ------------------------------------------------------------------ 01: Sharing Variables

SHARING_VARIABLES = [
    md("""
    # Sharing Variables, in jaxscope

    This notebook walks through TensorFlow 1's guide *Sharing Variables* section by section
    (quotes are from the guide, CC BY 3.0), plus the three `reuse` modes of
    `tf.variable_scope`. Each TF1 snippet becomes the same code with `js.` for `tf.`.

    What changes is around the code. TF1 builds a graph once and keeps its variables in
    it; jaxscope **traces a Python function**. `js.transform(fn)` gives two pure functions:

    * `init(rng, *args)` runs `fn` once, creating every variable it asks for, and returns
      them as a plain dict `{"params": {full_name: array}, "state": {...}}`;
    * `apply(variables, *args)` runs `fn` again, reading those variables instead of
      creating them, and returns `(output, aux)`.

    So where TF1 prints `v.name`, we look at the keys of that dict (TF's names, without
    `:0`); where TF1 asserts `v1 is v`, the function returns that comparison.
    """),
    code("""
    import re

    import jax
    import jax.numpy as jnp
    import numpy as np

    import jaxscope as js


    def run(fn, *args):
        \"\"\"Runs `fn` as jaxscope does: `init` creates its variables, `apply` reuses them.

        Returns what `fn` returned in the `apply` call, and the variables by full name.
        \"\"\"
        model = js.transform(fn)
        variables = model.init(jax.random.key(0), *args)
        out, _ = model.apply(variables, *args)
        return out, {**variables["params"], **variables["state"]}


    def show_error(fn, *args, first_line_only=True):
        \"\"\"Runs `fn`'s create trace (`init`) and prints the ValueError it raises.\"\"\"
        try:
            js.transform(fn).init(jax.random.key(0), *args)
        except ValueError as err:
            text = str(err)
            if first_line_only:  # TF1's sentence, without where the variable was created
                text = text.splitlines()[0].removesuffix(" Originally defined at:")
            print(f"{type(err).__name__}: {text}")
        else:
            print("no error")


    rng = np.random.default_rng(0)
    image1 = jnp.asarray(rng.standard_normal([2, 16, 16, 32]), jnp.float32)
    image2 = jnp.asarray(rng.standard_normal([2, 16, 16, 32]), jnp.float32)
    """),
    md("""
    ## The problem

    > Imagine you create a simple model for image filters [...] If you use just
    > `tf.Variable` [...] your model might look like this.

    `js.Variable` behaves as `tf.Variable`: it **always** makes a new variable, and makes
    its name unique (`conv1_weights`, `conv1_weights_1`, ...).
    """),
    code("""
    def conv2d(x, w):
        # tf.nn.conv2d's signature: NHWC images, HWIO kernels, TF's SAME padding.
        return js.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME")


    def my_image_filter(input_images):
        conv1_weights = js.Variable(
            lambda: jax.random.normal(jax.random.key(1), [5, 5, 32, 32]), name="conv1_weights")
        conv1_biases = js.Variable(jnp.zeros([32]), name="conv1_biases")
        relu1 = js.nn.relu(conv2d(input_images, conv1_weights) + conv1_biases)

        conv2_weights = js.Variable(
            lambda: jax.random.normal(jax.random.key(2), [5, 5, 32, 32]), name="conv2_weights")
        conv2_biases = js.Variable(jnp.zeros([32]), name="conv2_biases")
        return js.nn.relu(conv2d(relu1, conv2_weights) + conv2_biases)


    def two_images(image1, image2):
        # First call creates one set of 4 variables.
        result1 = my_image_filter(image1)
        # Another set of 4 variables is created in the second call.
        result2 = my_image_filter(image2)
        return result1, result2


    _, variables = run(two_images, image1, image2)
    list(variables)
    """),
    md("""
    > You want both images processed by the same filter with the same parameters. You can
    > call `my_image_filter()` twice, but this will create two sets of variables, 4
    > variables in each one, for a total of 8 variables.

    Passing a dict of variables around works, but "breaks encapsulation": the caller must
    know every name, shape and type. The guide's answer is *variable scope*.

    ## Variable scope example

    `get_variable(name, shape, initializer)` creates *or returns* a variable;
    `variable_scope(name)` puts a namespace in front of the names it sees. `conv_relu`
    uses the short names `weights` and `biases`; the scopes `conv1` and `conv2` keep them
    apart.
    """),
    code("""
    def conv_relu(input, kernel_shape, bias_shape):  # noqa: A002 - the guide's names
        # Create variable named "weights".
        weights = js.get_variable("weights", kernel_shape,
                                  initializer=js.random_normal_initializer())
        # Create variable named "biases".
        biases = js.get_variable("biases", bias_shape,
                                 initializer=js.constant_initializer(0.0))
        conv = js.nn.conv2d(input, weights, strides=[1, 1, 1, 1], padding="SAME")
        return js.nn.relu(conv + biases)


    def my_image_filter(input_images):  # noqa: F811 - the guide's second version
        with js.variable_scope("conv1"):
            # Variables created here will be named "conv1/weights", "conv1/biases".
            relu1 = conv_relu(input_images, [5, 5, 32, 32], [32])
        with js.variable_scope("conv2"):
            # Variables created here will be named "conv2/weights", "conv2/biases".
            return conv_relu(relu1, [5, 5, 32, 32], [32])
    """),
    md("""
    > Now, let's see what happens when we call `my_image_filter()` twice.

    `get_variable` refuses to share by accident, with TF1's message. jaxscope adds where
    the variable was first created and how to share it (the path is this notebook's cell).
    """),
    code("""
    def careless(image1, image2):
        result1 = my_image_filter(image1)
        result2 = my_image_filter(image2)  # Raises ValueError(... conv1/weights already exists ...)
        return result1, result2


    show_error(careless, image1, image2, first_line_only=False)
    """),
    md("""
    > If you want to share them, you need to specify it by setting `reuse_variables()` as
    > follows.

    Four variables, not eight. `js.summary` lists them; as the last expression of a cell it
    renders as a table.
    """),
    code("""
    @js.transform
    def image_filters(image1, image2):
        with js.variable_scope("image_filters") as scope:
            result1 = my_image_filter(image1)
            scope.reuse_variables()
            result2 = my_image_filter(image2)
        return result1, result2


    variables = image_filters.init(jax.random.key(0), image1, image2)
    js.summary(variables)
    """),
    md("""
    `apply` runs the same function on these variables. It is a pure function, so
    `jax.jit` compiles it; both calls of the filter read the same four arrays, so the same
    image gives the same result:
    """),
    code("""
    (result1, result2), aux = jax.jit(image_filters.apply)(variables, image1, image1)
    print("same image, same variables -> same result:", bool(jnp.array_equal(result1, result2)))
    print("result shape:", result1.shape)
    """),
    md("""
    ## How does variable scope work?

    ### Understanding `get_variable()`

    > Case 1: the scope is set for creating new variables, as evidenced by
    > `tf.get_variable_scope().reuse == False`. [...] The full name of the created
    > variable will be set to the current variable scope name + the provided name.
    """),
    code("""
    def case1():
        with js.variable_scope("foo"):
            js.get_variable("v", [1])
        return js.get_variable_scope().reuse


    reuse_at_top, variables = run(case1)
    print("reuse at the top:", reuse_at_top)
    list(variables)  # TF1: assert v.name == "foo/v:0"
    """),
    md("""
    > Case 2: the scope is set for reusing variables, as evidenced by
    > `tf.get_variable_scope().reuse == True`. In this case, the call will search for an
    > already existing variable [...] If no such variable exists, a ValueError will be
    > raised. If the variable is found, it will be returned.

    Within one call, fetching a variable twice gives the very same array object, so TF1's
    `assert v1 is v` holds as written:
    """),
    code("""
    def case2():
        with js.variable_scope("foo"):
            v = js.get_variable("v", [1])
        with js.variable_scope("foo", reuse=True):
            v1 = js.get_variable("v", [1])
        return v1 is v


    same, _ = run(case2)
    print("v1 is v ->", same)
    """),
    md("""
    ### Basics of `variable_scope()`

    > Nesting variable scopes appends their names in a way analogous to how directories
    > work.
    """),
    code("""
    def nested():
        with js.variable_scope("foo"):
            with js.variable_scope("bar"):
                v = js.get_variable("v", [1])
        return v


    _, variables = run(nested)
    list(variables)  # TF1: assert v.name == "foo/bar/v:0"
    """),
    md("""
    > the reuse flag of the current variable scope can be set to True by calling
    > `tf.get_variable_scope().reuse_variables()`
    """),
    code("""
    def reuse_from_inside():
        with js.variable_scope("foo"):
            v = js.get_variable("v", [1])
            js.get_variable_scope().reuse_variables()
            v1 = js.get_variable("v", [1])
        return v1 is v


    same, _ = run(reuse_from_inside)
    print("v1 is v ->", same)
    """),
    md("""
    > Note that you cannot set the reuse flag to False. [...] the reuse parameter is
    > inherited. So when you open a reusing variable scope, all sub-scopes will be reusing
    > too.

    The guide's asserts, as a record of the flag at each point (`reuse=False` inside a
    reusing scope means *inherit*, as in TF1):
    """),
    code("""
    def reuse_flags():
        flags = {}
        with js.variable_scope("root"):
            # At start, the scope is not reusing.
            flags["root"] = js.get_variable_scope().reuse
            with js.variable_scope("foo"):
                # Opened a sub-scope, still not reusing.
                flags["root/foo"] = js.get_variable_scope().reuse
            with js.variable_scope("foo", reuse=True):
                # Explicitly opened a reusing scope.
                flags["root/foo, reuse=True"] = js.get_variable_scope().reuse
                with js.variable_scope("bar"):
                    # Now sub-scope inherits the reuse flag.
                    flags["root/foo/bar"] = js.get_variable_scope().reuse
                with js.variable_scope("baz", reuse=False):
                    # reuse=False cannot switch reusing off.
                    flags["root/foo/baz, reuse=False"] = js.get_variable_scope().reuse
            # Exited the reusing scope, back to a non-reusing one.
            flags["root, again"] = js.get_variable_scope().reuse
        return flags


    flags, _ = run(reuse_flags)
    for where, reuse in flags.items():
        print(f"{where:28} reuse={reuse}")
    """),
    md("""
    ## The three reuse modes

    `variable_scope(name, reuse=...)` takes `None` (inherit: create, and refuse to
    create twice), `True` (only share, and refuse to create) or `AUTO_REUSE` (create
    when missing, share otherwise).

    `reuse=None`, the default, with a variable fetched twice:
    """),
    code("""
    def reuse_none():
        with js.variable_scope("layer1", reuse=None):
            w1 = js.get_variable("w", initializer=jax.random.normal(jax.random.key(1), [3, 3]))
            w2 = js.get_variable("w", initializer=jax.random.normal(jax.random.key(2), [3, 3]))
        return w1 is w2


    show_error(reuse_none)
    """),
    md("""
    `reuse=True` with a variable that was never created:
    """),
    code("""
    def reuse_true():
        with js.variable_scope("layer1", reuse=True):
            w1 = js.get_variable("w", initializer=jax.random.normal(jax.random.key(1), [3, 3]))
        return w1


    show_error(reuse_true)
    """),
    md("""
    `reuse=True` after a non-reusing scope created it, and `AUTO_REUSE` inherited by a
    sub-scope opened with `reuse=None`:
    """),
    code("""
    def create_then_reuse():
        with js.variable_scope("layer1"):
            w1 = js.get_variable("w", initializer=jax.random.normal(jax.random.key(1), [2, 2]))
        with js.variable_scope("layer1", reuse=True):
            w2 = js.get_variable("w", initializer=jax.random.normal(jax.random.key(2), [2, 2]))
        return w1 is w2


    def auto_reuse_inherited():
        with js.variable_scope("layer1", reuse=js.AUTO_REUSE):
            with js.variable_scope("layer_sub_1", reuse=None):
                w1 = js.get_variable("w", initializer=jax.random.normal(jax.random.key(1), [3, 3]))
                w2 = js.get_variable("w", initializer=jax.random.normal(jax.random.key(2), [3, 3]))
        return w1 is w2


    print("reuse=True after creating it:      w1 is w2 ->", run(create_then_reuse)[0])
    print("AUTO_REUSE inherited by sub-scope: w1 is w2 ->", run(auto_reuse_inherited)[0])
    """),
    md("""
    The usual `AUTO_REUSE` idiom: a function that creates its variable the first time it
    is called and shares it afterwards. One variable:
    """),
    code("""
    def layer_weight():
        with js.variable_scope("weight", reuse=js.AUTO_REUSE):
            return js.get_variable("w", initializer=jax.random.normal(jax.random.key(1), [2, 2]))


    def call_twice():
        w1 = layer_weight()
        w2 = layer_weight()
        return w1 is w2


    same, variables = run(call_twice)
    print("w1 is w2 ->", same, "| variables:", list(variables))
    """),
    md("""
    `Variable` ignores `reuse` altogether: next to a `get_variable("w")` in an
    `AUTO_REUSE` scope it makes a second variable, `w_1`, as TF1 does.
    """),
    code("""
    def variable_and_get_variable():
        with js.variable_scope("layer1", reuse=js.AUTO_REUSE):
            w1 = js.Variable(jax.random.normal(jax.random.key(1), [2, 2]), name="w")
            w2 = js.get_variable("w", initializer=jax.random.normal(jax.random.key(2), [3, 3]))
        return w1 is w2


    same, variables = run(variable_and_get_variable)
    print("w1 is w2 ->", same)
    js.summary(variables)
    """),
    md("""
    ## Capturing variable scope

    > variable scopes can be captured and used instead of names when opening a new
    > variable scope.
    """),
    code("""
    def captured():
        with js.variable_scope("foo") as foo_scope:
            v = js.get_variable("v", [1])
        with js.variable_scope(foo_scope):
            w = js.get_variable("w", [1])
        with js.variable_scope(foo_scope, reuse=True):
            v1 = js.get_variable("v", [1])
            w1 = js.get_variable("w", [1])
        return v1 is v, w1 is w


    shared, variables = run(captured)
    print("v1 is v, w1 is w ->", shared, "| variables:", list(variables))
    """),
    md("""
    > When opening a variable scope using a previously existing scope we jump out of the
    > current variable scope prefix to an entirely different one.
    """),
    code("""
    def jump_out():
        with js.variable_scope("foo") as foo_scope:
            names = {"foo_scope": foo_scope.name}
        with js.variable_scope("bar"):
            with js.variable_scope("baz") as other_scope:
                names["other_scope"] = other_scope.name
            with js.variable_scope(foo_scope) as foo_scope2:
                names["foo_scope2"] = foo_scope2.name  # Not changed.
        return names


    run(jump_out)[0]
    """),
    md("""
    ## Initializers in variable scope

    > variable scope can carry a default initializer. It is inherited by sub-scopes and
    > passed to each `tf.get_variable()` call. But it will be overridden if another
    > initializer is specified explicitly.
    """),
    code("""
    def default_initializers():
        with js.variable_scope("foo", initializer=js.constant_initializer(0.4)):
            js.get_variable("v", [1])  # Default initializer as set above.
            js.get_variable("w", [1], initializer=js.constant_initializer(0.3))  # Overrides.
            with js.variable_scope("bar"):
                js.get_variable("v", [1])  # Inherited default initializer.
            with js.variable_scope("baz", initializer=js.constant_initializer(0.2)):
                js.get_variable("v", [1])  # Changed default initializer.


    _, variables = run(default_initializers)
    variables
    """),
    md("""
    Without any initializer, a float variable gets `uniform_unit_scaling` (the seeds'
    default; open `js.variable_scope("", initializer=js.glorot_uniform_initializer())` at
    the top for later TF1's). Each value is drawn from a key derived from the variable's
    **full name**, so adding a variable never changes the others.

    ## Names of ops in `variable_scope()`

    > when we do `with tf.variable_scope("name")`, this implicitly opens a
    > `tf.name_scope("name")`. [...] Name scopes can be opened in addition to a variable
    > scope, and then they will only affect the names of the ops, but not of variables.

    jaxscope's name scopes are `jax.named_scope`s: they name the operations of the
    compiled program. `op_names` reads them from the lowered HLO.
    """),
    code("""
    def op_names(fn, *args):
        \"\"\"The scoped operation names in `fn`'s compiled `apply` (TF1's `x.op.name`).\"\"\"
        model = fn if isinstance(fn, js.Transformed) else js.transform(fn)
        variables = model.init(jax.random.key(0), *args)
        hlo = jax.jit(model.apply).lower(variables, *args).as_text(debug_info=True)
        return sorted(set(re.findall(r'loc\\("jit\\([^)]*\\)/([^"]+)"', hlo)))


    def op_in_variable_scope():
        with js.variable_scope("foo"):
            x = 1.0 + js.get_variable("v", [1])
        return x


    def op_in_name_scope():
        with js.variable_scope("foo"):
            with js.name_scope("bar"):
                v = js.get_variable("v", [1])
                x = 1.0 + v
        return x


    for fn in (op_in_variable_scope, op_in_name_scope):
        _, variables = run(fn)
        print(f"{fn.__name__:21} variables: {list(variables)}  ops: {op_names(fn)}")
    """),
    md("""
    The image filter's compiled code carries the same kind of names: the second call's
    ops are in name scopes `conv1_1`, `conv2_1` (a name scope is made unique, as TF1's),
    while its variables are shared.
    """),
    code("""
    [name for name in op_names(image_filters, image1, image2) if "conv_general" in name]
    """),
    md("""
    ## Looking at the variables

    `js.summary` also takes `model.specs(*args)`, an abstract trace that only computes
    shapes (no FLOPs, no memory), and then lists each variable's TF collections:
    """),
    code("""
    js.summary(image_filters.specs(image1, image2))
    """),
]


# ------------------------------------------------------------------ 02: training loop

TRAINING_LOOP = [
    md("""
    # A functional training loop

    A small convolutional network for scikit-learn's handwritten digits (8x8 images, 10
    classes), written as TF1 code with `tf.layers` names, trained with plain JAX and optax.

    In TF1 you would build the graph, collect `tf.losses.get_regularization_loss()`, make
    a `train_op` and call `sess.run(train_op, feed_dict=...)` in a loop. Here the model is
    a function; `js.transform` turns it into pure `init`/`apply` functions, and a training
    step is a `jax.jit`-compiled function from (parameters, optimizer state, batch) to new
    parameters and optimizer state.
    """),
    code("""
    %matplotlib inline
    import time
    import warnings

    import jax
    import jax.numpy as jnp
    import matplotlib.pyplot as plt
    import numpy as np
    import optax
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    import jaxscope as js

    # Without ipywidgets, tqdm.auto falls back to the text progress bar, with a warning.
    warnings.filterwarnings("ignore", message="IProgress not found")
    from tqdm.auto import tqdm  # noqa: E402

    started = time.perf_counter()
    """),
    md("""
    ## Data

    1,797 grayscale digits, pixel values 0 to 16. Scaled to [0, 1] and shaped NHWC
    (`[batch, 8, 8, 1]`), as `tf.nn.conv2d` expects; a quarter is held out for testing.
    """),
    code("""
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., None]
    labels = digits.target.astype(np.int32)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=0.25, random_state=0, stratify=labels)
    print(f"train {x_train.shape}, test {x_test.shape}")

    fig, axes = plt.subplots(1, 10, figsize=(10, 1.3))
    for ax, image, label in zip(axes, x_train, y_train):
        ax.imshow(image[..., 0], cmap="gray_r")
        ax.set_title(str(label))
        ax.axis("off")
    plt.show()
    """),
    md("""
    ## The model

    The same code as TF1's `tf.layers` version with `js.` for `tf.`, so the variables get
    TF1's names (`conv1/kernel`, `fc/bias`, ...). Weight decay comes from the enclosing
    scope: `variable_scope(..., regularizer=l2(scale))` makes it the default of every
    `get_variable` inside, and, as in TF1, `tf.layers` leaves it in place for kernels
    *and* biases. Each variable's `scale * sum(w**2) / 2` comes back in `aux.losses`
    (TF1's `REGULARIZATION_LOSSES` collection).

    Dropout needs randomness only when training: `apply(..., rng=key)` feeds it.
    """),
    code("""
    WEIGHT_DECAY = 1e-4
    NUM_CLASSES = 10


    def digits_cnn(images, training=False):
        with js.variable_scope("digits_cnn", regularizer=js.regularizers.l2(WEIGHT_DECAY)):
            x = js.layers.conv2d(images, 16, 3, padding="same", activation=js.nn.relu,
                                 name="conv1")
            x = js.layers.max_pooling2d(x, 2, 2, name="pool1")                 # 8x8 -> 4x4
            x = js.layers.conv2d(x, 32, 3, padding="same", activation=js.nn.relu, name="conv2")
            x = js.layers.max_pooling2d(x, 2, 2, name="pool2")                 # 4x4 -> 2x2
            x = js.layers.flatten(x)
            x = js.layers.dense(x, 64, activation=js.nn.relu, name="fc")
            x = js.layers.dropout(x, rate=0.25, training=training)
            return js.layers.dense(x, NUM_CLASSES, name="logits")


    model = js.transform(digits_cnn)
    variables = model.init(jax.random.key(0), x_train[:1])
    js.summary(variables)
    """),
    md("""
    `aux.regularization_loss` is the sum of `aux.losses`, TF1's
    `tf.losses.get_regularization_loss()`. Checked by hand against the definition:
    """),
    code("""
    _, aux = model.apply(variables, x_train[:1])
    by_hand = sum(WEIGHT_DECAY * jnp.sum(w ** 2) / 2 for w in variables["params"].values())
    print(f"{len(aux.losses)} regularization losses, e.g. {next(iter(aux.losses))!r}")
    print(f"regularization loss {float(aux.regularization_loss):.6f}, by hand {float(by_hand):.6f}")
    """),
    md("""
    ## Training step and evaluation

    The loss is TF1's `sparse_softmax_cross_entropy_with_logits` plus the regularization
    loss. The step differentiates it with respect to `params` only, and returns the new
    parameters and optimizer state: nothing is updated in place.
    """),
    code("""
    LEARNING_RATE = 3e-3
    BATCH_SIZE = 64
    EPOCHS = 8

    optimizer = optax.adam(LEARNING_RATE)


    def loss_fn(params, images, labels, rng):
        logits, aux = model.apply({"params": params, "state": {}}, images, training=True, rng=rng)
        cross_entropy = jnp.mean(js.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits))
        return cross_entropy + aux.regularization_loss


    @jax.jit
    def train_step(params, opt_state, images, labels, rng):
        loss, grads = jax.value_and_grad(loss_fn)(params, images, labels, rng)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss


    @jax.jit
    def accuracy(params, images, labels):
        logits, _ = model.apply({"params": params, "state": {}}, images)  # training=False
        return jnp.mean(jnp.argmax(logits, axis=-1) == labels)
    """),
    md("""
    ## The loop

    Shuffle each epoch, one `train_step` per batch, test accuracy after each epoch.
    """),
    code("""
    params = variables["params"]
    opt_state = optimizer.init(params)
    shuffle = np.random.default_rng(0)
    key = jax.random.key(1)
    steps_per_epoch = len(x_train) // BATCH_SIZE
    losses, test_accuracy = [], []

    with tqdm(total=EPOCHS * steps_per_epoch, desc="training", unit="step") as bar:
        for _ in range(EPOCHS):
            order = shuffle.permutation(len(x_train))
            for i in range(steps_per_epoch):
                batch = order[i * BATCH_SIZE:(i + 1) * BATCH_SIZE]
                key, step_key = jax.random.split(key)
                params, opt_state, loss = train_step(
                    params, opt_state, x_train[batch], y_train[batch], step_key)
                losses.append(float(loss))
                bar.update()
            test_accuracy.append(float(accuracy(params, x_test, y_test)))
            bar.set_postfix(loss=f"{losses[-1]:.3f}", test_accuracy=f"{test_accuracy[-1]:.1%}")
    """),
    code("""
    steps = np.arange(1, len(losses) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    left.plot(steps, losses, lw=1)
    left.set(xlabel="step", ylabel="cross entropy + weight decay", yscale="log",
             title="Training loss per step")
    right.plot(np.arange(1, EPOCHS + 1), 100 * np.array(test_accuracy), marker="o")
    right.set(xlabel="epoch", ylabel="test accuracy (%)", title="Test accuracy per epoch")
    right.grid(alpha=0.3)
    fig.tight_layout()
    plt.show()
    """),
    code("""
    print(f"notebook ran in {time.perf_counter() - started:.1f} s")
    print(f"final: test accuracy {test_accuracy[-1]:.1%} after {len(losses)} steps")
    """),
]


# ------------------------------------------------------------------ 03: from TF1

FROM_TF1 = [
    md("""
    # From TF1: porting a model and its checkpoint

    A TF1 program trained the *Sharing Variables* guide's image filter and saved it with
    `tf.train.Saver`. Here we port the code to jaxscope, read TensorFlow's checkpoint
    (without TensorFlow), restore the variables by name, check that the port computes what
    TensorFlow computed, and save a jaxscope checkpoint.

    The TF1 program (run with TensorFlow 2.21's `tf.compat.v1` in graph mode to make
    `../examples/data/tf1_image_filter/`):

    ```python
    import tensorflow.compat.v1 as tf
    tf.disable_v2_behavior()

    def conv_relu(input, kernel_shape, bias_shape):
        weights = tf.get_variable("weights", kernel_shape,
            initializer=tf.random_normal_initializer())
        biases = tf.get_variable("biases", bias_shape,
            initializer=tf.constant_initializer(0.0))
        conv = tf.nn.conv2d(input, weights, strides=[1, 1, 1, 1], padding='SAME')
        return tf.nn.relu(conv + biases)

    def my_image_filter(input_images):
        with tf.variable_scope("conv1"):
            relu1 = conv_relu(input_images, [5, 5, 32, 32], [32])
        with tf.variable_scope("conv2"):
            return conv_relu(relu1, [5, 5, 32, 32], [32])

    image1 = tf.placeholder(tf.float32, [2, 16, 16, 32])
    image2 = tf.placeholder(tf.float32, [2, 16, 16, 32])
    with tf.variable_scope("image_filters") as scope:
        result1 = my_image_filter(image1)
        scope.reuse_variables()
        result2 = my_image_filter(image2)

    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        output, output_reuse = sess.run([result1, result2], {image1: ..., image2: ...})
        saver.save(sess, "model.ckpt", global_step=100)
    ```

    Besides the checkpoint, `expected.npz` holds the inputs TensorFlow was fed and the
    outputs it computed (`input`, `output`, `input_reuse`, `output_reuse`).
    """),
    code("""
    import os
    import tempfile

    import jax
    import numpy as np

    import jaxscope as js

    CKPT_DIR = "../examples/data/tf1_image_filter"  # relative to this notebook's folder
    # TensorFlow computed in float32 with std-1 weights (outputs up to ~1.2e3).
    RTOL, ATOL = 1e-5, 2e-3

    expected = np.load(os.path.join(CKPT_DIR, "expected.npz"))
    sorted(os.listdir(CKPT_DIR))
    """),
    md("""
    ## What the checkpoint holds

    `js.train.latest_checkpoint` reads TF1's `checkpoint` state file;
    `js.train.list_variables` reads the `.index` file (TF1's
    `tf.train.list_variables`): names and shapes, no tensor data.
    """),
    code("""
    tf_checkpoint = js.train.latest_checkpoint(CKPT_DIR)
    print("latest checkpoint:", os.path.relpath(tf_checkpoint, CKPT_DIR))
    for name, shape in js.train.list_variables(tf_checkpoint):
        print(f"  {name:30} {shape}")
    """),
    md("""
    ## The port

    Line for line the TF1 code with `js.` for `tf.` (`js.nn.conv2d` has `tf.nn.conv2d`'s
    signature and `SAME` padding). The only addition is `js.transform`; the scope's name
    is a parameter so that we can also build the model under another scope below.
    """),
    code("""
    def conv_relu(input, kernel_shape, bias_shape):  # noqa: A002 - TF1's names
        weights = js.get_variable("weights", kernel_shape,
                                  initializer=js.random_normal_initializer())
        biases = js.get_variable("biases", bias_shape,
                                 initializer=js.constant_initializer(0.0))
        conv = js.nn.conv2d(input, weights, strides=[1, 1, 1, 1], padding="SAME")
        return js.nn.relu(conv + biases)


    def my_image_filter(input_images):
        with js.variable_scope("conv1"):
            relu1 = conv_relu(input_images, [5, 5, 32, 32], [32])
        with js.variable_scope("conv2"):
            return conv_relu(relu1, [5, 5, 32, 32], [32])


    def image_filters(scope_name="image_filters"):
        \"\"\"The guide's two-image model, its variables under `scope_name`.\"\"\"

        @js.transform
        def two_images(image1, image2):
            with js.variable_scope(scope_name) as scope:
                result1 = my_image_filter(image1)
                scope.reuse_variables()
                result2 = my_image_filter(image2)
            return result1, result2

        return two_images


    image1, image2 = expected["input"], expected["input_reuse"]
    model = image_filters()
    variables = model.init(jax.random.key(0), image1, image2)  # fresh random values
    js.summary(variables)
    """),
    md("""
    ## Restore by name

    The port's variables have the checkpoint's names, so TF1's
    `saver.restore(sess, path)` is `js.train.Saver().restore(path, variables)`: it replaces
    every variable in `variables` by the checkpoint's tensor of the same name, checking
    shapes and dtypes, and returns new variables. The values are TensorFlow's, bit for bit:
    """),
    code("""
    restored = js.train.Saver().restore(tf_checkpoint, variables)
    for name, value in restored["params"].items():
        print(f"{name:30} identical to TF's: {np.array_equal(value, expected[name])}")
    """),
    md("""
    Run the port on TensorFlow's inputs and compare with TensorFlow's outputs:
    """),
    code("""
    def compare_with_tensorflow(results):
        \"\"\"Prints the largest differences from TF's outputs; fails beyond the tolerance.\"\"\"
        for key, result in zip(["output", "output_reuse"], results):
            result, reference = np.asarray(result), expected[key]
            print(f"{key:13} max abs diff {np.max(np.abs(result - reference)):.2e}"
                  f"   (max |TF output| {np.max(np.abs(reference)):.1f})")
            np.testing.assert_allclose(result, reference, rtol=RTOL, atol=ATOL)


    results, _ = jax.jit(model.apply)(restored, image1, image2)
    compare_with_tensorflow(results)
    """),
    md("""
    ## Restore under another scope

    Ported code often lives under another name. TF1's
    `tf.train.init_from_checkpoint(ckpt, {"image_filters/": "ported/"})` maps a whole
    checkpoint scope onto a scope of the new model; `js.train.init_from_checkpoint` takes
    the same assignment map and returns new variables (it accepts the folder, meaning its
    latest checkpoint).
    """),
    code("""
    ported_model = image_filters("ported")
    ported = ported_model.init(jax.random.key(0), image1, image2)
    ported = js.train.init_from_checkpoint(CKPT_DIR, {"image_filters/": "ported/"}, ported)

    results, _ = jax.jit(ported_model.apply)(ported, image1, image2)
    compare_with_tensorflow(results)
    js.summary(ported)
    """),
    md("""
    `Saver` takes TF1's `var_list` dict too (checkpoint name → variable name), here for a
    single variable:
    """),
    code("""
    fresh = ported_model.init(jax.random.key(0), image1, image2)
    one = js.train.Saver({"image_filters/conv2/biases": "ported/conv2/biases"})
    only_biases = one.restore(tf_checkpoint, fresh)
    for name in fresh["params"]:
        from_tf = np.array_equal(only_biases["params"][name],
                                 expected[name.replace("ported/", "image_filters/")])
        print(f"{name:22} {'from the TF checkpoint' if from_tf else 'as init made it'}")
    """),
    md("""
    ## Save as a jaxscope checkpoint

    `Saver.save` writes one safetensors file (no pickle), atomically, plus TF1's
    `checkpoint` state file, and returns the prefix, as TF1 does. (Into a temporary
    folder here, not into the repository.)
    """),
    code("""
    workdir = tempfile.mkdtemp()
    saver = js.train.Saver(max_to_keep=3)
    prefix = saver.save(ported, os.path.join(workdir, "model.ckpt"), global_step=100)
    print("saved:", os.path.basename(prefix), "| files:", sorted(os.listdir(workdir)))
    with open(os.path.join(workdir, "checkpoint")) as state_file:
        print(state_file.read())
    js.train.list_variables(js.train.latest_checkpoint(workdir))
    """),
    code("""
    reloaded = js.train.Saver().restore(js.train.latest_checkpoint(workdir))
    same = all(np.array_equal(reloaded["params"][name], ported["params"][name])
               for name in ported["params"])
    print("reloaded jaxscope checkpoint equals what was saved:", same)
    results, _ = jax.jit(ported_model.apply)(reloaded, image1, image2)
    compare_with_tensorflow(results)
    """),
    md("""
    ## TF1 → jaxscope, in short

    | TF1 | jaxscope |
    | --- | --- |
    | `tf.train.list_variables(path)` | `js.train.list_variables(path)` |
    | `tf.train.latest_checkpoint(dir)` | `js.train.latest_checkpoint(dir)` |
    | `tf.train.Saver().restore(sess, path)` | `js.train.Saver().restore(path, variables)` |
    | `tf.train.Saver({"ckpt/name": var})` | `js.train.Saver({"ckpt/name": "var/name"})` |
    | `tf.train.init_from_checkpoint(path, m)` | `js.train.init_from_checkpoint(path, m, vars)` |
    | `saver.save(sess, prefix, global_step=10)` | `saver.save(variables, prefix, global_step=10)` |

    (jaxscope's functions return new variables instead of assigning in a session.)
    """),
]


NOTEBOOKS = {
    "01_sharing_variables": SHARING_VARIABLES,
    "02_training_loop": TRAINING_LOOP,
    "03_from_tf1": FROM_TF1,
}


def make_notebook(name: str, cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    """A notebook of ``cells`` with stable cell ids (so rebuilding gives small diffs)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
    }
    for index, cell in enumerate(cells):
        cell = nbformat.from_dict(dict(cell))
        cell.id = f"{name[:2]}-{index:02d}"
        nb.cells.append(cell)
    return nb


def execute(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Runs every cell in a fresh kernel, from this folder; outputs stay in ``nb``."""
    env = {**os.environ, "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")}
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT_SECONDS, kernel_name=KERNELSPEC["name"],
        resources={"metadata": {"path": str(HERE)}}, record_timing=False,
    )
    client.execute(env=env)
    return nb


def coalesce_streams(outputs: list) -> list:
    """Merges consecutive stream outputs and keeps what a terminal shows after each ``\\r``.

    A progress bar redraws its line with carriage returns; saved as is, it would be
    dozens of outputs. Jupyter would display the same final line.
    """
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.output_type == "stream" and previous is not None
                and previous.output_type == "stream" and previous.name == output.name):
            previous.text += output.text
        else:
            merged.append(output)
    for output in merged:
        if output.output_type == "stream":
            lines = output.text.split("\n")
            output.text = "\n".join(
                next((part for part in reversed(line.split("\r")) if part), "")
                for line in lines)
    return merged


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keeps only stable metadata (kernelspec, language name and version); merges streams."""
    info = nb.metadata.get("language_info", {})
    nb.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {k: info[k] for k in ("name", "version") if k in info},
    }
    for cell in nb.cells:
        cell.metadata = {}
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    return nb


def build(name: str) -> float:
    """Writes, executes and saves ``name``.ipynb; returns the execution time in seconds."""
    nb = make_notebook(name, NOTEBOOKS[name])
    started = time.perf_counter()
    execute(nb)
    seconds = time.perf_counter() - started
    nbformat.validate(clean(nb))
    nbformat.write(nb, HERE / f"{name}.ipynb")
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"notebooks to build (default: all of {', '.join(NOTEBOOKS)})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(NOTEBOOKS))
    if unknown:
        parser.error(f"unknown notebook(s) {unknown}; choose from {list(NOTEBOOKS)}")
    for name in args.names or NOTEBOOKS:
        seconds = build(name)
        print(f"{name}.ipynb: executed in {seconds:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
