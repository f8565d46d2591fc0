"""Sphinx configuration of the sklearn-deeptd documentation.

Build with ``python -m sphinx -W --keep-going -b html doc doc/_build/html`` from
the repository root (after ``python -m pip install ".[docs]"``).
"""

import os
import warnings

import sklearn_deeptd

# The gallery's figures are drawn without a display.
os.environ.setdefault("MPLBACKEND", "Agg")

project = "sklearn-deeptd"
author = "The sklearn-deeptd developers"
copyright = "2026, The sklearn-deeptd developers"
version = release = sklearn_deeptd.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"

# -- autodoc / autosummary ---------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"

# -- numpydoc ----------------------------------------------------------------
# Methods are listed by the class template (doc/_templates/class.rst), so
# numpydoc does not add its own member tables.
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
# The same checks as tests/test_docstrings.py, run on this package's own
# docstrings while the site is built (a failure is a warning, hence an error
# under -W). scikit-learn's inherited methods (get_params, score, ...) are
# scikit-learn's to check.
numpydoc_validation_checks = {"all", "ES01", "SA01", "EX01", "RT02", "GL08"}
numpydoc_validation_exclude = {
    r"\.__init__$",
    r"\.get_params$",
    r"\.set_params$",
    r"\.score$",
    r"\.get_metadata_routing$",
    r"\.set_\w+_request$",
}

# -- sphinx-gallery ----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": ("sklearn_deeptd",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_deeptd": None},
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    # An example that raises fails the build.
    "abort_on_example_error": True,
}

# matplotlib warns when the Agg backend cannot show a figure; nothing else.
warnings.filterwarnings(
    "ignore", category=UserWarning, message="FigureCanvasAgg is non-interactive"
)

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-deeptd {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": False,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
html_show_sourcelink = False


# -- links out of scikit-learn's inherited docstrings ------------------------
# The methods DeepTDRegressor, DeepTDClassifier and PlantedCNNDataset inherit
# from scikit-learn (score, get_metadata_routing, set_fit_request, ...) refer
# to labels and glossary terms of scikit-learn's own site. Those (and only
# those) are linked to scikit-learn's pages; any other unresolved reference
# still warns.
SKLEARN_URL = "https://scikit-learn.org/stable/"
SKLEARN_REFERENCES = {
    "r2_score": "modules/model_evaluation.html#r2-score",
    "accuracy_score": "modules/model_evaluation.html#accuracy-score",
    "metadata_routing": "metadata_routing.html",
    "meta-estimator": "glossary.html#term-meta-estimator",
}


def _link_sklearn_reference(app, env, node, contnode):
    from docutils import nodes

    if node.get("refdomain") != "std" or node.get("reftype") not in ("ref", "term"):
        return None
    page = SKLEARN_REFERENCES.get(node.get("reftarget", "").lower())
    if page is None:
        return None
    text = contnode.astext()
    if node.get("reftype") == "ref" and text == node.get("reftarget"):
        text = "scikit-learn: " + text.replace("_", " ")
    reference = nodes.reference("", "", internal=False, refuri=SKLEARN_URL + page)
    reference += nodes.inline(text, text)
    return reference


def setup(app):
    app.connect("missing-reference", _link_sklearn_reference)
