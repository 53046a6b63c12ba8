"""Links in a project are followed inside it; a link out of it is an input error.

A chunk linked to a private note, or templates/ linked to another project's, would be
mailed to every subscriber with nothing in the project showing it: inputs.py and the
template loader in render/renderer.py refuse them, naming the link and where it points.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import Project, chunk_file, issue_file

REFUSED = ("{link}: is a link to {target}, outside the project; a link out of the project is "
           "not followed, so nothing from elsewhere is mailed "
           "(hint: copy what it points at into the project)")


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A folder beside the project, outside it."""
    folder = tmp_path / "private"
    folder.mkdir()
    return folder


def link(path: Path, target: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    path.symlink_to(target)


def assert_refused(result, link: Path, target: Path, prefix: str = "Error: ") -> None:
    assert result.exit_code == 1, result.stdout
    expected = prefix + REFUSED.format(link=link, target=target.resolve())
    lines = result.errors if prefix == "Error: " else result.stdout.splitlines()
    assert expected in lines, result.stdout + result.stderr


def test_a_chunk_linked_out_of_the_project_is_refused(project, elsewhere):
    note = elsewhere / "alpha.md"
    note.write_text(chunk_file("alpha", summary="My private notes."), encoding="utf-8")
    link(project.root / "content/alpha.md", note)
    for command, prefix in (("build", "Error: "), ("check", "error: ")):
        result = project.run(command)
        assert_refused(result, project.root / "content/alpha.md", note, prefix)
        assert "My private notes" not in result.stdout + result.stderr
    assert not project.out.exists()


def test_content_linked_out_of_the_project_is_refused(project, elsewhere):
    (elsewhere / "alpha.md").write_text(chunk_file("alpha"), encoding="utf-8")
    link(project.root / "content", elsewhere)
    result = project.run("build")
    assert_refused(result, project.root / "content", elsewhere)
    # Reported once, for the folder: not once more for each file in it.
    assert not [e for e in result.errors if "alpha.md: is a link" in e]
    assert not project.out.exists()


def test_an_issue_linked_out_of_the_project_is_refused(project, elsewhere):
    (elsewhere / "001-first.yaml").write_text(issue_file(), encoding="utf-8")
    link(project.root / "digests/001-first.yaml", elsewhere / "001-first.yaml")
    result = project.run("build")
    assert_refused(result, project.root / "digests/001-first.yaml",
                   elsewhere / "001-first.yaml")


def test_templates_linked_out_of_the_project_are_refused(project, elsewhere):
    shutil.copytree(project.root / "templates", elsewhere / "templates")
    link(project.root / "templates", elsewhere / "templates")
    result = project.run("build")
    assert_refused(result, project.root / "templates", elsewhere / "templates")
    assert not project.out.exists()


@pytest.mark.parametrize("name", ["digest.mjml.j2", "digest.txt.j2", "partials/footer.mjml.j2"])
def test_a_template_linked_out_of_the_project_is_refused(project, elsewhere, name):
    template = project.root / "templates" / name
    target = elsewhere / Path(name).name
    shutil.copy(template, target)
    link(template, target)
    result = project.run("build")
    assert_refused(result, template, target)
    assert not project.out.exists()


def test_a_partials_folder_linked_out_of_the_project_is_refused(project, elsewhere):
    shutil.copytree(project.root / "templates/partials", elsewhere / "partials")
    link(project.root / "templates/partials", elsewhere / "partials")
    result = project.run("build")
    assert_refused(result, project.root / "templates/partials", elsewhere / "partials")


def test_links_inside_the_project_are_followed(project):
    shared = project.write("shared/alpha.md", chunk_file("alpha", title="A shared piece"))
    link(project.root / "content/alpha.md", Path("../shared/alpha.md"))
    shutil.move(project.root / "templates", project.root / "theme")
    link(project.root / "templates", Path("theme"))
    result = project.run("build")
    assert result.exit_code == 0, result.stderr
    html = (project.out / "001-first" / "email.html").read_text(encoding="utf-8")
    assert "A shared piece" in html and shared.is_file()


def test_a_project_reached_through_a_link_is_not_outside_itself(project, tmp_path):
    """The project's own folder may be a link (`--project ~/newsletter`)."""
    alias = tmp_path / "alias"
    alias.symlink_to(project.root)
    result = Project(alias).run("build", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    assert re.search(r"wrote .*email\.html", result.stdout)
