"""Deprecated: the old home of the ledger (``verify_sublin.claims``), kept so that plugins
written for it still import. Use `verify_sublin.ledger` (entries, `ledger.toolkit`) and
`verify_sublin.bench.experiments`; a plugin declares ``ENTRIES``, ``EXPERIMENTS`` and
``METHODS`` lists (see `verify_sublin.plugins`)."""

import warnings

warnings.warn("verify_sublin.claims is deprecated: use verify_sublin.ledger (entries and "
              "the toolkit) and verify_sublin.bench.experiments; plugins declare ENTRIES, "
              "EXPERIMENTS and METHODS lists", DeprecationWarning, stacklevel=2)
