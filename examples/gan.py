"""A GAN on scikit-learn's two moons, its two optimizers picking their variables by scope.

TF1 GAN code puts the generator and the discriminator in their own variable scopes,
calls the discriminator twice (on real and on generated samples) sharing its variables
with ``reuse=True``, and gives each optimizer only its own network's variables:

    d_vars = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope="discriminator")
    d_train = tf.train.AdamOptimizer(lr).minimize(d_loss, var_list=d_vars)

In jaxscope the variables are one ``{full_name: array}`` dict, and
``js.filter(params, scope="discriminator")`` is that ``var_list``: each training step
differentiates its loss with respect to its own part only, updates it with its own
optax optimizer, and merges it back. The model code is TF1's with ``js.`` for ``tf.``.

The figure reported is the sliced Wasserstein distance between generated points and
held-out data points, next to the untrained generator's and to the distance between
two samples of the data itself (the floor for a perfect generator).

Run:  python examples/gan.py [--steps 10000] [--batch-size 256]
"""

from __future__ import annotations

import argparse
import os
import tempfile

import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.datasets import make_moons
from tqdm import tqdm

import jaxscope as js

LATENT = 4  # size of the generator's input noise
MOONS_NOISE = 0.05  # make_moons' Gaussian noise


# -- the model: TF1 code, js. for tf. ------------------------------------------------------
def generator(z, hidden):
    """Noise [N, LATENT] -> points [N, 2]; variables generator/hidden1/kernel, ..."""
    with js.variable_scope("generator"):
        h = js.layers.dense(z, hidden, activation=js.nn.relu, name="hidden1")
        h = js.layers.dense(h, hidden, activation=js.nn.relu, name="hidden2")
        return js.layers.dense(h, 2, name="points")


def discriminator(x, hidden, reuse=None):
    """Points [N, 2] -> logits of "real" [N]. The second call passes reuse=True."""
    with js.variable_scope("discriminator", reuse=reuse):
        h = js.layers.dense(x, hidden, activation=js.nn.leaky_relu, name="hidden1")
        h = js.layers.dense(h, hidden, activation=js.nn.leaky_relu, name="hidden2")
        return js.layers.dense(h, 1, name="logit")[:, 0]


def make_gan(hidden: int) -> js.Transformed:
    @js.transform
    def gan(z, real):
        fake = generator(z, hidden)
        d_real = discriminator(real, hidden)
        # The same discriminator judges the fakes: without reuse=True, TF1 (and jaxscope)
        # would refuse to create discriminator/hidden1/kernel a second time.
        d_fake = discriminator(fake, hidden, reuse=True)
        return fake, d_real, d_fake

    return gan


# -- losses and the two optimizers -----------------------------------------------------------
def bce(logits, label: float):
    """tf.nn.sigmoid_cross_entropy_with_logits against a constant label, averaged."""
    labels = jnp.full_like(logits, label)
    return js.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits).mean()


def make_train_step(gan, d_optimizer, g_optimizer, batch_size: int):
    """One discriminator update, then one generator update (non-saturating loss), jitted."""

    def d_loss_fn(params, z, real):
        (_, d_real, d_fake), _ = gan.apply({"params": params, "state": {}}, z, real)
        return bce(d_real, 1.0) + bce(d_fake, 0.0)

    def g_loss_fn(params, z, real):
        (_, _, d_fake), _ = gan.apply({"params": params, "state": {}}, z, real)
        return bce(d_fake, 1.0)

    def minimize(loss_fn, optimizer, scope, params, opt_state, *batch):
        """optimizer.minimize(loss, var_list=<trainable variables under scope>)."""
        own = js.filter(params, scope=scope)  # the var_list
        loss, grads = jax.value_and_grad(lambda own: loss_fn({**params, **own}, *batch))(own)
        updates, opt_state = optimizer.update(grads, opt_state, own)
        return {**params, **optax.apply_updates(own, updates)}, opt_state, loss

    @jax.jit
    def train_step(params, d_state, g_state, pool, key):
        real_key, z_key, g_key = jax.random.split(key, 3)
        real = pool[jax.random.randint(real_key, [batch_size], 0, pool.shape[0])]
        z = jax.random.normal(z_key, [batch_size, LATENT])
        params, d_state, d_loss = minimize(
            d_loss_fn, d_optimizer, "discriminator", params, d_state, z, real
        )
        z = jax.random.normal(g_key, [batch_size, LATENT])
        params, g_state, g_loss = minimize(
            g_loss_fn, g_optimizer, "generator", params, g_state, z, real
        )
        return params, d_state, g_state, d_loss, g_loss

    return train_step


# -- data and the distance -------------------------------------------------------------------
def moons(n: int, seed: int) -> np.ndarray:
    points, _ = make_moons(n_samples=n, noise=MOONS_NOISE, random_state=seed)
    return points.astype(np.float32)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, directions: np.ndarray) -> float:
    """Mean over directions of the 1-D Wasserstein-1 distance between the projections.

    For equal-size samples the 1-D distance is the mean gap between sorted values.
    """
    pa, pb = np.sort(a @ directions, axis=0), np.sort(b @ directions, axis=0)
    return float(np.abs(pa - pb).mean())


def share_near(points: np.ndarray, data: np.ndarray, radius: float) -> float:
    """The fraction of ``points`` within ``radius`` of some point of ``data``."""
    gaps = np.linalg.norm(points[:, None, :] - data[None, :, :], axis=-1).min(axis=1)
    return float((gaps < radius).mean())


def random_directions(count: int, seed: int) -> np.ndarray:
    angles = np.random.default_rng(seed).uniform(0, np.pi, count)
    return np.stack([np.cos(angles), np.sin(angles)])  # [2, count], unit vectors


# -- the script ------------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10000,
                        help="training steps, each one D and one G update (default 10000)")
    parser.add_argument("--batch-size", type=int, default=256, help="points per batch")
    parser.add_argument("--hidden", type=int, default=64, help="units per hidden layer")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="both Adams' step size")
    parser.add_argument("--eval-points", type=int, default=2000,
                        help="points per sample for the distance (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of data, variables and noise")
    parser.add_argument("--workdir", default=None,
                        help="where the checkpoint goes (default: a fresh temporary folder)")
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "hidden", "eval_points"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    workdir = args.workdir or tempfile.mkdtemp(prefix="gan_")
    os.makedirs(workdir, exist_ok=True)

    # A pool of training points (the train step draws batches from it on the device), and
    # two independent held-out samples for the distance.
    pool = jnp.asarray(moons(64 * args.batch_size, args.seed))
    held_out = moons(args.eval_points, args.seed + 1)
    second_sample = moons(args.eval_points, args.seed + 2)
    directions = random_directions(256, args.seed)
    eval_z = jax.random.normal(jax.random.key(args.seed + 3), [args.eval_points, LATENT])

    gan = make_gan(args.hidden)
    key, init_key = jax.random.split(jax.random.key(args.seed))
    variables = gan.init(init_key, eval_z[:2], pool[:2])
    print(js.summary(variables))
    params = variables["params"]

    # The generator alone, as its own transform: it needs only the generator's variables,
    # under the same names ("generator/hidden1/kernel", ...).
    sampler = js.transform(lambda z: generator(z, args.hidden))

    @jax.jit
    def generate(params, z):
        return sampler.apply({"params": js.filter(params, scope="generator"), "state": {}}, z)[0]

    def distance(params) -> float:
        return sliced_wasserstein(np.asarray(generate(params, eval_z)), held_out, directions)

    # Two optimizers, each with its own state over its own scope's variables (Adam with
    # beta1 = 0.5, as DCGAN-style TF1 code sets it). optax.multi_transform could route one
    # params dict to the two by a label per name; filtering by scope keeps the var_list idea.
    # The step size decays to zero along a cosine, which lets the two-player game settle.
    schedule = optax.cosine_decay_schedule(args.learning_rate, args.steps)
    d_optimizer = optax.adam(schedule, b1=0.5)
    g_optimizer = optax.adam(schedule, b1=0.5)
    d_state = d_optimizer.init(js.filter(params, scope="discriminator"))
    g_state = g_optimizer.init(js.filter(params, scope="generator"))
    print(f"\ngenerator variables:     {sorted(js.filter(params, scope='generator'))}")
    print(f"discriminator variables: {sorted(js.filter(params, scope='discriminator'))}")

    untrained = distance(params)
    floor = sliced_wasserstein(second_sample, held_out, directions)
    train_step = make_train_step(gan, d_optimizer, g_optimizer, args.batch_size)
    with tqdm(range(args.steps), desc="training", unit="step") as bar:
        for step in bar:
            key, step_key = jax.random.split(key)
            params, d_state, g_state, d_loss, g_loss = train_step(
                params, d_state, g_state, pool, step_key
            )
            if step % 100 == 0 or step == args.steps - 1:
                bar.set_postfix(d_loss=f"{float(d_loss):.3f}", g_loss=f"{float(g_loss):.3f}")

    path = js.train.Saver().save({"params": params, "state": {}},
                                 os.path.join(workdir, "gan.ckpt"), args.steps)
    print(f"\ncheckpoint: {path}")
    fake = np.asarray(generate(params, eval_z))
    print(f"generated mean {np.round(fake.mean(0), 2)} std {np.round(fake.std(0), 2)}; "
          f"data mean {np.round(held_out.mean(0), 2)} std {np.round(held_out.std(0), 2)}")
    print(f"within 0.1 of a data point: {share_near(fake, held_out, 0.1):.1%} of generated points, "
          f"{share_near(second_sample, held_out, 0.1):.1%} of a second data sample")
    trained = sliced_wasserstein(fake, held_out, directions)
    print(f"final: sliced Wasserstein distance {trained:.3f} to the data after {args.steps} steps "
          f"(untrained generator {untrained:.3f}, a second data sample {floor:.3f})")


if __name__ == "__main__":
    main()
