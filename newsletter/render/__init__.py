"""An issue through Jinja and MJML to HTML, and its plain-text twin."""
