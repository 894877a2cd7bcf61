"""Reports of a run folder: figures, a self-contained ``report.html`` and ``summary.md``.

* :func:`build_report` (:mod:`sim.report.html`): the HTML report, the Markdown summary and
  every figure as PNG and SVG in ``RUN_DIR/figures/``. Figures of journeys, escalations and
  pricing tiers are drawn when the run has their KPIs, with a "not in this run" line
  otherwise.
* :func:`build_compare_report` (:mod:`sim.report.comparison`): the report of
  :func:`sim.compare.compare_runs` over two run folders (``ccsim compare RUN_A RUN_B
  --out FILE``), HTML and/or Markdown.
* :mod:`sim.report.figures`: one function per chart, each drawing on a given matplotlib
  ``ax``.
* :mod:`sim.report.data`: reading a run folder, baseline alerts, staffed agents and the
  analytic requirement by interval, the tables of the journey/escalation/economics figures.
"""

from sim.report.comparison import build_compare_report
from sim.report.data import RunFolderError, compare_runs, load_run
from sim.report.html import build_report

__all__ = ["RunFolderError", "build_compare_report", "build_report", "compare_runs",
           "load_run"]
