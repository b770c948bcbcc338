"""TF1 ``tf.layers``: layers whose variables are named as TF1 names them."""

from jaxscope.layers.base import Layer

__all__ = ["Layer"]
