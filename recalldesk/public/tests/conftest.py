"""The outreach tests' real SMTP server, for the crisis site's mail too."""

from recalldesk.outreach.tests.conftest import smtp_server

__all__ = ["smtp_server"]
