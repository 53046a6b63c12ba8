"""The message bytes (headers, quoted-printable, mailto: links) and `build`."""
