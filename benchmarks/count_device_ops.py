"""Count the device operations and host-device transfers of a dispatched fit.

Fits ``DeepTDRegressor`` and ``DeepTDClassifier`` on PyTorch CPU tensors under
``sklearn.set_config(array_api_dispatch=True)`` and counts, during one fit
(after a warm-up fit of the same estimator, which fills the per-process
caches):

- **device operations**: the ATen operators PyTorch dispatches (seen by a
  ``TorchDispatchMode``) that compute something; operators that only make a
  view (``view``, ``slice``, ``permute``, ...) are left out, since they launch
  no kernel. On a GPU each counted operation is a kernel launch (and
  ``_local_scalar_dense``, a read of one number, also a synchronisation);
- **scalar reads**: those ``_local_scalar_dense`` operations, among the
  device operations;
- **transfers**: arrays the package moves between the device and the host
  (its ``to_numpy``, ``to_namespace`` and ``indices_to_namespace``, the
  indices of the subsample), one per call whatever the size.

The count does not depend on the data's values, only on the code path: run it
at two sizes to see that it does not grow with ``n``.

Usage::

    python benchmarks/count_device_ops.py                 # n = 10^4 and 10^6
    python benchmarks/count_device_ops.py --sizes 10000 --where   # by line

Needs PyTorch (``pip install torch``), which is not a dependency of the
package.
"""

import argparse
import collections
import os
import sys
import traceback
import warnings

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import sklearn  # noqa: E402

from sklearn_deeptd import (  # noqa: E402
    DeepTDClassifier,
    DeepTDRegressor,
    PlantedCNNDataset,
)

# ATen operators that only describe memory (a view of the same storage):
# they launch no kernel on a device.
VIEW_OPERATORS = frozenset(
    {
        "_reshape_alias",
        "_unsafe_view",
        "alias",
        "as_strided",
        "detach",
        "diagonal",
        "expand",
        "lift_fresh",
        "permute",
        "select",
        "slice",
        "split",
        "split_with_sizes",
        "squeeze",
        "t",
        "transpose",
        "unbind",
        "unfold",
        "unsqueeze",
        "view",
    }
)

KERNEL_SIZES = (8, 8, 8)


def _counter_class():
    from torch.utils._python_dispatch import TorchDispatchMode

    class OperationCounter(TorchDispatchMode):
        """Counts the operators dispatched inside its context, and where in
        the package each was issued."""

        def __init__(self):
            super().__init__()
            self.operators = collections.Counter()
            self.places = collections.Counter()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = func.overloadpacket.__name__
            if name not in VIEW_OPERATORS:
                self.operators[name] += 1
                self.places[_place(name)] += 1
            return func(*args, **(kwargs or {}))

    return OperationCounter


def _place(name):
    frames = [
        frame
        for frame in traceback.extract_stack()
        if f"{os.sep}sklearn_deeptd{os.sep}" in frame.filename
    ]
    if not frames:
        return f"(outside the package) {name}"
    frame = frames[-1]
    return f"{os.path.basename(frame.filename)}:{frame.lineno} {frame.name} {name}"


class _TransferCounter:
    """Counts the package's moves of arrays between namespaces, wherever in
    the package its move functions were imported."""

    NAMES = ("convert_to_numpy", "to_namespace", "indices_to_namespace")

    def __init__(self):
        import sklearn_deeptd._array_api as array_api

        self.count = 0
        self.originals = {name: getattr(array_api, name) for name in self.NAMES}
        self.patched = []

    def _counted(self, function):
        def wrapper(array, *args, **kwargs):
            # Indices already on the device are returned as they are.
            if function.__name__ != "indices_to_namespace" or isinstance(
                array, np.ndarray
            ):
                self.count += 1
            return function(array, *args, **kwargs)

        return wrapper

    def __enter__(self):
        for module in list(sys.modules.values()):
            if not getattr(module, "__name__", "").startswith("sklearn_deeptd"):
                continue
            for name, function in self.originals.items():
                if getattr(module, name, None) is function:
                    self.patched.append((module, name, function))
                    setattr(module, name, self._counted(function))
        return self

    def __exit__(self, *exc):
        for module, name, function in self.patched:
            setattr(module, name, function)


def count_fit(estimator, X, y):
    """Fit ``estimator`` twice on the tensors ``X``, ``y`` under dispatch and
    count the second fit.

    Returns
    -------
    operations : collections.Counter
        Counted operators by name.
    places : collections.Counter
        Counted operators by the package line that issued them.
    transfers : int
        Arrays moved between the device and the host.
    """
    counter = _counter_class()
    with sklearn.config_context(array_api_dispatch=True), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sklearn.clone(estimator).fit(X, y)
        with _TransferCounter() as transfers, counter() as operations:
            estimator.fit(X, y)
    return operations.operators, operations.places, transfers.count


def _cases(n_samples):
    import torch

    regression = PlantedCNNDataset(KERNEL_SIZES, random_state=0)
    X, y = regression.sample(n_samples, random_state=1)
    X, y = torch.asarray(X.astype(np.float32)), torch.asarray(y.astype(np.float32))
    yield (
        "fit(refine=False)",
        DeepTDRegressor(KERNEL_SIZES, refine=False, random_state=0),
        X,
        y,
    )
    yield "default fit", DeepTDRegressor(KERNEL_SIZES, random_state=0), X, y
    labels = PlantedCNNDataset(
        KERNEL_SIZES, rank=2, labels="logistic", n_classes=10, random_state=0
    )
    _, classes = labels.sample(n_samples, random_state=1)
    classes = torch.asarray(classes)
    yield (
        "10 classes, refine=False",
        DeepTDClassifier(KERNEL_SIZES, refine=False, random_state=0),
        X,
        classes,
    )
    yield (
        "10 classes, default",
        DeepTDClassifier(KERNEL_SIZES, random_state=0),
        X,
        classes,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="10000,1000000",
        help="comma-separated numbers of rows (default: 10000,1000000)",
    )
    parser.add_argument(
        "--where", action="store_true", help="also list the operations by line"
    )
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        raise SystemExit(
            "count_device_ops.py needs PyTorch (pip install torch); it is not a "
            "dependency of sklearn-deeptd."
        ) from None
    print(f"{'fit':26s} {'n':>9s} {'operations':>10s} {'scalar reads':>12s} "
          f"{'transfers':>9s}")  # fmt: skip
    for n_samples in (int(size) for size in args.sizes.split(",")):
        for label, estimator, X, y in _cases(n_samples):
            operations, places, transfers = count_fit(estimator, X, y)
            print(
                f"{label:26s} {n_samples:9d} {sum(operations.values()):10d} "
                f"{operations['_local_scalar_dense']:12d} {transfers:9d}",
                flush=True,
            )
            if args.where:
                for place, count in places.most_common():
                    print(f"    {count:4d}  {place}")


if __name__ == "__main__":
    main()
