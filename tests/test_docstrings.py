"""Every public docstring passes numpydoc validation."""

import inspect

import pytest

import sklearn_deeptd

numpydoc_validate = pytest.importorskip("numpydoc.validate")

# The codes scikit-learn itself leaves out: an extended summary (ES01), See Also
# (SA01) and Examples (EX01) are optional on methods, and Returns sections name
# the returned value ("self : DeepTDRegressor"), which RT02 forbids.
IGNORED = {"ES01", "SA01", "EX01", "RT02"}
# Classes and functions must have their See Also and Examples sections.
REQUIRED_ON_TOP_LEVEL = {"SA01", "EX01"}


def _public_objects():
    for name in sklearn_deeptd.__all__:
        obj = getattr(sklearn_deeptd, name)
        if not callable(obj):
            continue
        yield f"sklearn_deeptd.{name}"
        if inspect.isclass(obj):
            for attribute, member in vars(obj).items():
                if not attribute.startswith("_") and inspect.isfunction(member):
                    yield f"sklearn_deeptd.{name}.{attribute}"


@pytest.mark.parametrize("import_path", sorted(_public_objects()))
def test_docstring(import_path):
    result = numpydoc_validate.validate(import_path)
    errors = [
        f"{code}: {message}"
        for code, message in result["errors"]
        if code not in IGNORED
        or (code in REQUIRED_ON_TOP_LEVEL and import_path.count(".") == 1)
    ]
    assert not errors, f"{import_path}:\n" + "\n".join(errors)
