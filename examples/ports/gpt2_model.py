# ruff: noqa: E501, N803, UP031
# GPT-2's model, ported from TensorFlow 1 to jaxscope by renaming ``tf.`` to ``js.``.
#
# Source: https://github.com/openai/gpt-2, commit 9b63575ef42771a015060c964af2c3da4cf7c8ab,
# file src/model.py. License: Modified MIT License, Software Copyright (c) 2019 OpenAI
# (notice reproduced below, as the license requires).
#
# Every ``tf.`` became ``js.`` (on 53 lines). Beyond that rename, the lines marked [Cn] changed:
# 14 of the port's 142 code lines, replacing 10 of the original's 138 (its lines 2, 3, 16, 31,
# 70, 73, 94, 117, 125, 138); no other line differs from the original but for the rename.
#   [C1] ``import tensorflow as tf`` -> ``import jaxscope as js``.
#   [C2] ``from tensorflow.contrib.training import HParams`` (tf.contrib is gone) -> a
#        4-line ``HParams`` on ``types.SimpleNamespace`` (attribute access and
#        ``override_from_dict``, what the gpt-2 repo uses of it), plus ``import types``.
#   [C3] ``x.shape.as_list()`` -> ``list(x.shape)``: a JAX array's shape is a tuple of
#        ints, not a TensorShape (shapes are static; ``js.shape`` gives them as NumPy).
#   [C4] ``x.shape[-1].value`` -> ``x.shape[-1]`` (4 lines): same reason, no Dimension.
#   [C5] ``x.shape.ndims`` -> ``x.ndim`` (3 lines): same reason.
# None of these is a missing or wrong jaxscope op: TensorShape is the tensor object's API,
# which docs/migration.md lists as staying outside ``js.``. Upstream formatting is kept, so
# the file-level ``ruff: noqa`` above silences only style rules on upstream code.
#
# Checked against TensorFlow by tests/test_ports.py (fixture: tests/fixtures/make_gpt2.py).
#
# ---------------------------------------------------------------------------------------
# Modified MIT License
#
# Software Copyright (c) 2019 OpenAI
#
# We don’t claim ownership of the content you create with GPT-2, so it is yours to do with
# as you please. We only ask that you use GPT-2 responsibly and clearly indicate your
# content was created using GPT-2.
#
# Permission is hereby granted, free of charge, to any person obtaining a copy of this
# software and associated documentation files (the "Software"), to deal in the Software
# without restriction, including without limitation the rights to use, copy, modify,
# merge, publish, distribute, sublicense, and/or sell copies of the Software, and to
# permit persons to whom the Software is furnished to do so, subject to the following
# conditions:
#
# The above copyright notice and this permission notice shall be included in all copies
# or substantial portions of the Software.
# The above copyright notice and this permission notice need not be included with content
# created by the Software.
#
# THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
# INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
# PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
# FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
# OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
# DEALINGS IN THE SOFTWARE.
# ---------------------------------------------------------------------------------------
import types  # [C2]

import numpy as np

import jaxscope as js  # [C1]


class HParams(types.SimpleNamespace):  # [C2]
    def override_from_dict(self, values):  # [C2]
        self.__dict__.update(values)  # [C2]
        return self  # [C2]

def default_hparams():
    return HParams(
        n_vocab=0,
        n_ctx=1024,
        n_embd=768,
        n_head=12,
        n_layer=12,
    )

def shape_list(x):
    """Deal with dynamic shape in tensorflow cleanly."""
    static = list(x.shape)  # [C3]
    dynamic = js.shape(x)
    return [dynamic[i] if s is None else s for i, s in enumerate(static)]

def softmax(x, axis=-1):
    x = x - js.reduce_max(x, axis=axis, keepdims=True)
    ex = js.exp(x)
    return ex / js.reduce_sum(ex, axis=axis, keepdims=True)

def gelu(x):
    return 0.5*x*(1+js.tanh(np.sqrt(2/np.pi)*(x+0.044715*js.pow(x, 3))))

def norm(x, scope, *, axis=-1, epsilon=1e-5):
    """Normalize to mean = 0, std = 1, then do a diagonal affine transform."""
    with js.variable_scope(scope):
        n_state = x.shape[-1]  # [C4]
        g = js.get_variable('g', [n_state], initializer=js.constant_initializer(1))
        b = js.get_variable('b', [n_state], initializer=js.constant_initializer(0))
        u = js.reduce_mean(x, axis=axis, keepdims=True)
        s = js.reduce_mean(js.square(x-u), axis=axis, keepdims=True)
        x = (x - u) * js.rsqrt(s + epsilon)
        x = x*g + b
        return x

def split_states(x, n):
    """Reshape the last dimension of x into [n, x.shape[-1]/n]."""
    *start, m = shape_list(x)
    return js.reshape(x, start + [n, m//n])

def merge_states(x):
    """Smash the last two dimensions of x into a single dimension."""
    *start, a, b = shape_list(x)
    return js.reshape(x, start + [a*b])

def conv1d(x, scope, nf, *, w_init_stdev=0.02):
    with js.variable_scope(scope):
        *start, nx = shape_list(x)
        w = js.get_variable('w', [1, nx, nf], initializer=js.random_normal_initializer(stddev=w_init_stdev))
        b = js.get_variable('b', [nf], initializer=js.constant_initializer(0))
        c = js.reshape(js.matmul(js.reshape(x, [-1, nx]), js.reshape(w, [-1, nf]))+b, start+[nf])
        return c

def attention_mask(nd, ns, *, dtype):
    """1's in the lower triangle, counting from the lower right corner.

    Same as js.matrix_band_part(js.ones([nd, ns]), -1, ns-nd), but doesn't produce garbage on TPUs.
    """
    i = js.range(nd)[:,None]
    j = js.range(ns)
    m = i >= j - ns + nd
    return js.cast(m, dtype)


def attn(x, scope, n_state, *, past, hparams):
    assert x.ndim == 3  # [C5] Should be [batch, sequence, features]
    assert n_state % hparams.n_head == 0
    if past is not None:
        assert past.ndim == 5  # [C5] Should be [batch, 2, heads, sequence, features], where 2 is [k, v]

    def split_heads(x):
        # From [batch, sequence, features] to [batch, heads, sequence, features]
        return js.transpose(split_states(x, hparams.n_head), [0, 2, 1, 3])

    def merge_heads(x):
        # Reverse of split_heads
        return merge_states(js.transpose(x, [0, 2, 1, 3]))

    def mask_attn_weights(w):
        # w has shape [batch, heads, dst_sequence, src_sequence], where information flows from src to dst.
        _, _, nd, ns = shape_list(w)
        b = attention_mask(nd, ns, dtype=w.dtype)
        b = js.reshape(b, [1, 1, nd, ns])
        w = w*b - js.cast(1e10, w.dtype)*(1-b)
        return w

    def multihead_attn(q, k, v):
        # q, k, v have shape [batch, heads, sequence, features]
        w = js.matmul(q, k, transpose_b=True)
        w = w * js.rsqrt(js.cast(v.shape[-1], w.dtype))  # [C4]

        w = mask_attn_weights(w)
        w = softmax(w)
        a = js.matmul(w, v)
        return a

    with js.variable_scope(scope):
        c = conv1d(x, 'c_attn', n_state*3)
        q, k, v = map(split_heads, js.split(c, 3, axis=2))
        present = js.stack([k, v], axis=1)
        if past is not None:
            pk, pv = js.unstack(past, axis=1)
            k = js.concat([pk, k], axis=-2)
            v = js.concat([pv, v], axis=-2)
        a = multihead_attn(q, k, v)
        a = merge_heads(a)
        a = conv1d(a, 'c_proj', n_state)
        return a, present


def mlp(x, scope, n_state, *, hparams):
    with js.variable_scope(scope):
        nx = x.shape[-1]  # [C4]
        h = gelu(conv1d(x, 'c_fc', n_state))
        h2 = conv1d(h, 'c_proj', nx)
        return h2


def block(x, scope, *, past, hparams):
    with js.variable_scope(scope):
        nx = x.shape[-1]  # [C4]
        a, present = attn(norm(x, 'ln_1'), 'attn', nx, past=past, hparams=hparams)
        x = x + a
        m = mlp(norm(x, 'ln_2'), 'mlp', nx*4, hparams=hparams)
        x = x + m
        return x, present

def past_shape(*, hparams, batch_size=None, sequence=None):
    return [batch_size, hparams.n_layer, 2, hparams.n_head, sequence, hparams.n_embd // hparams.n_head]

def expand_tile(value, size):
    """Add a new axis of given size."""
    value = js.convert_to_tensor(value, name='value')
    ndims = value.ndim  # [C5]
    return js.tile(js.expand_dims(value, axis=0), [size] + [1]*ndims)

def positions_for(tokens, past_length):
    batch_size = js.shape(tokens)[0]
    nsteps = js.shape(tokens)[1]
    return expand_tile(past_length + js.range(nsteps), batch_size)


def model(hparams, X, past=None, scope='model', reuse=False):
    with js.variable_scope(scope, reuse=reuse):
        results = {}
        batch, sequence = shape_list(X)

        wpe = js.get_variable('wpe', [hparams.n_ctx, hparams.n_embd],
                             initializer=js.random_normal_initializer(stddev=0.01))
        wte = js.get_variable('wte', [hparams.n_vocab, hparams.n_embd],
                             initializer=js.random_normal_initializer(stddev=0.02))
        past_length = 0 if past is None else js.shape(past)[-2]
        h = js.gather(wte, X) + js.gather(wpe, positions_for(X, past_length))

        # Transformer
        presents = []
        pasts = js.unstack(past, axis=1) if past is not None else [None] * hparams.n_layer
        assert len(pasts) == hparams.n_layer
        for layer, past in enumerate(pasts):
            h, present = block(h, 'h%d' % layer, past=past, hparams=hparams)
            presents.append(present)
        results['present'] = js.stack(presents, axis=1)
        h = norm(h, 'ln_f')

        # Language model loss.  Do tokens <n predict token n?
        h_flat = js.reshape(h, [batch*sequence, hparams.n_embd])
        logits = js.matmul(h_flat, wte, transpose_b=True)
        logits = js.reshape(logits, [batch, sequence, hparams.n_vocab])
        results['logits'] = logits
        return results
