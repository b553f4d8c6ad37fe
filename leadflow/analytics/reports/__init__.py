"""The analyses of SPEC step 5, one module each; importing this package registers them
all (see ``base.register``)."""

import importlib
import pkgutil

from leadflow.analytics.reports.base import REPORTS, Report, ordered_reports

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["REPORTS", "Report", "ordered_reports"]
