#!/usr/bin/env python3
"""The editor's entry point: `python send.py --help`. The work lives in the newsletter package."""

from newsletter.cli import main

if __name__ == "__main__":
    main()
