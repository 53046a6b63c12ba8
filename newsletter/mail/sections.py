"""Importing this declares every newsletter.yaml section and check that mail/ owns.

Each module outside source/ that loads newsletter.yaml imports it, so no setting of mail's is
ever read as an unknown key (tests/test_config_sections.py holds every loader to that). A new
section of a stage up to mail/ (SMTP submission, discreet mode) is declared in its own module
and named here; later stages load the config too, so they cannot own a section.
"""

from . import (
    discreet,  # noqa: F401  discreet: (neutral headers for shared devices)
    mailto,  # noqa: F401  the unsubscribe link's length
    smtp_settings,  # noqa: F401  smtp: (emit --mode smtp)
    unsubscribe_settings,  # noqa: F401  unsubscribe: (RFC 8058 one-click)
)
