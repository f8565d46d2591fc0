"""pytest configuration: enable SciPy's array API support before SciPy loads.

scikit-learn's array API estimator checks (run by tests/test_common.py because
DeepTDRegressor sets the ``array_api_support`` tag) and tests/test_array_api.py
need ``sklearn.set_config(array_api_dispatch=True)``, which scikit-learn only
allows when SciPy was imported with ``SCIPY_ARRAY_API=1``.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")
