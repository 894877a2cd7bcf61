"""ccsim: a discrete-event contact-center simulator."""

__version__ = "0.1.0"
