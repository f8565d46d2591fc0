"""Kernel sizes: validation, and the default factorisation of n_features."""

from numbers import Integral

import numpy as np

_DEFAULT_MAX_DEPTH = 3


def _prime_factors(n):
    factors = []
    divisor = 2
    while divisor * divisor <= n:
        while n % divisor == 0:
            factors.append(divisor)
            n //= divisor
        divisor += 1
    if n > 1:
        factors.append(n)
    return factors


def default_kernel_sizes(n_features, max_depth=_DEFAULT_MAX_DEPTH):
    """Deterministic factorisation of ``n_features`` into at most ``max_depth`` sizes.

    The prime factors of ``n_features`` are dealt out, largest first, each to the
    layer whose product is currently smallest (the earliest such layer on ties);
    layers left at 1 are dropped. For example 512 -> (8, 8, 8),
    64 -> (4, 4, 4), 30 -> (5, 3, 2), 10 -> (5, 2), a prime p -> (p,) and
    1 -> (1,).
    """
    sizes = [1] * max_depth
    for factor in sorted(_prime_factors(n_features), reverse=True):
        sizes[int(np.argmin(sizes))] *= factor
    sizes = tuple(size for size in sizes if size > 1)
    return sizes or (1,)


def check_kernel_sizes(kernel_sizes, n_features):
    """Validate explicit kernel sizes against ``n_features``; return a tuple of int."""
    if isinstance(kernel_sizes, (str, bytes)) or not np.iterable(kernel_sizes):
        raise ValueError(
            "kernel_sizes must be a sequence of positive integers, got "
            f"{kernel_sizes!r}."
        )
    if isinstance(kernel_sizes, (set, frozenset, dict)):
        # Their iteration order is not the layer order the user meant.
        raise ValueError(
            "kernel_sizes must be an ordered sequence (tuple, list or 1-D array), "
            f"input layer first; got a {type(kernel_sizes).__name__}."
        )
    sizes = list(kernel_sizes)
    if not sizes:
        raise ValueError("kernel_sizes must contain at least one kernel size.")
    for size in sizes:
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, Integral):
            raise ValueError(
                f"kernel_sizes must contain only integers; got {size!r} "
                f"in {tuple(kernel_sizes)!r}."
            )
        if size <= 0:
            raise ValueError(
                f"kernel_sizes must be positive; got {int(size)} in "
                f"{tuple(int(s) for s in sizes)!r}."
            )
    sizes = tuple(int(size) for size in sizes)
    product = int(np.prod(sizes, dtype=object))
    if n_features is not None and product != n_features:
        raise ValueError(
            f"kernel_sizes {sizes} multiply to {product}, but X has {n_features} "
            "features; their product must equal the number of features."
        )
    return sizes
