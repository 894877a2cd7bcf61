"""ccsim: a discrete-event contact-center simulator.

Public API: :func:`load_scenario`, :func:`run` (returns :class:`Results`).
"""

__version__ = "0.1.0"

from sim.api import run  # noqa: E402
from sim.results import Results  # noqa: E402
from sim.scenario import Scenario, load_scenario  # noqa: E402

__all__ = ["Results", "Scenario", "__version__", "load_scenario", "run"]
