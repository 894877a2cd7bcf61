"""Reports of a run folder: figures, a self-contained ``report.html`` and ``summary.md``.

* :func:`build_report` (:mod:`sim.report.html`): the HTML report, the Markdown summary and
  every figure as PNG and SVG in ``RUN_DIR/figures/``.
* :mod:`sim.report.figures`: one function per chart, each drawing on a given matplotlib
  ``ax``.
* :mod:`sim.report.data`: reading a run folder, baseline alerts, staffed agents by interval.
"""

from sim.report.data import RunFolderError, compare_runs, load_run
from sim.report.html import build_report

__all__ = ["RunFolderError", "build_report", "compare_runs", "load_run"]
