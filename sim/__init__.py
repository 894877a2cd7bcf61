"""ccsim: a discrete-event contact-center simulator.

Public API: :func:`load_scenario`, :func:`run` (returns :class:`Results`), :func:`compare`
and :func:`sweep` (return DataFrames).
"""

__version__ = "0.1.0"

from sim.api import run  # noqa: E402
from sim.compare import compare  # noqa: E402  (the function shadows the module's name)
from sim.results import Results  # noqa: E402
from sim.scenario import Scenario, load_scenario  # noqa: E402
from sim.sweep import sweep  # noqa: E402  (the function shadows the module's name)

__all__ = ["Results", "Scenario", "__version__", "compare", "load_scenario", "run", "sweep"]
