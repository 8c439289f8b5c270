"""Every table on Base.metadata (migrations, tests): the house's own and each registered domain's."""

from backend import registry

__all__ = ["registry"]
