"""o365check: set up, check and debug an Entra ID app that sends mail through Microsoft Graph."""

__version__ = "0.1.0"
