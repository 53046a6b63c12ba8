"""A project folder loaded and validated as a whole: config, chunks, templates and issues."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import Problem, ValidationError
from .compose import load_issues
from .config import Config, ConfigCheck, load_config, site_host
from .content import collect_chunks
from .inputs import available_templates
from .models import Chunk, Issue


@dataclass(frozen=True)
class Project:
    root: Path
    config: Config
    chunks: dict[str, Chunk]
    issues: list[Issue]


def load_project(root: Path, config_checks: Sequence[ConfigCheck] = ()) -> Project:
    """Load everything under `root`; raise ValidationError with every problem in every file.

    `config_checks`: see load_config; a no-op for the declared checks that callers still
    pass (mail.mailto.CONFIG_CHECKS), to be removed with them.
    """
    problems: list[Problem] = []
    config = None
    try:
        config = load_config(root, config_checks)
    except ValidationError as exc:
        problems += exc.problems
    host = urlsplit(config.site_url).hostname if config is not None else site_host(root)
    chunks = collect_chunks(root, problems, host)
    issues: list[Issue] = []
    try:
        issues = load_issues(root, chunks, available_templates(root))
    except ValidationError as exc:
        problems += exc.problems
    if problems or config is None:
        raise ValidationError(problems)
    return Project(root, config, chunks, issues)

