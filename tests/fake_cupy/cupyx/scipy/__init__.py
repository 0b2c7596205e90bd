"""cupyx.scipy: only `special` here."""
from . import special  # noqa: F401
