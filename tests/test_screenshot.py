"""`screenshot`: valid PNGs of the expected widths from the system Chromium, one line per file."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.commands.screenshot import screenshot
from newsletter.web.screenshot import CHROMIUM_VARIABLE, png_size

EXPECTED = {"desktop-600.png": 600, "phone-375.png": 375, "dark-375.png": 375, "text.png": 680}


def run(root: Path, *args: str):
    return CliRunner().invoke(screenshot, list(args), obj=root, catch_exceptions=False)


@pytest.mark.browser
def test_writes_a_png_of_each_view_and_prints_a_line_for_each(sample_project):
    result = run(sample_project.root, "1")  # issue 1: the one with an image
    assert result.exit_code == 0, result.stderr
    folder = sample_project.root / "out" / "001-slow-change" / "screenshots"
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    for line, (name, width) in zip(lines, EXPECTED.items(), strict=True):
        match = re.fullmatch(r"wrote (\S+)\s+(\d+) x (\d+) px", line)
        assert match and Path(match.group(1)).resolve() == (folder / name).resolve(), line
        data = (folder / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert data[12:16] == b"IHDR"
        assert struct.unpack(">I", data[16:20])[0] == width == int(match.group(2))
        assert png_size(data)[1] == int(match.group(3)) > 1500  # the whole email, not a window
    assert sorted(p.name for p in folder.iterdir()) == sorted(EXPECTED)
    # Light views show brand.light.background, the dark one brand.dark.background.
    assert _top_left_pixel(folder / "desktop-600.png") == (0xf4, 0xf1, 0xec)
    assert _top_left_pixel(folder / "phone-375.png") == (0xf4, 0xf1, 0xec)
    assert _top_left_pixel(folder / "dark-375.png") == (0x1c, 0x1b, 0x22)
    assert _top_left_pixel(folder / "text.png") == (0xff, 0xff, 0xff)


@pytest.mark.browser
def test_out_chooses_the_folder_and_old_pictures_are_replaced(project, tmp_path):
    target = tmp_path / "review"
    target.mkdir()
    (target / "desktop-600.png").write_bytes(b"an earlier run's picture")
    assert run(project.root, "001-first", "--out", str(target)).exit_code == 0
    assert sorted(p.name for p in target.iterdir()) == sorted(EXPECTED)  # no temporary files
    assert png_size((target / "desktop-600.png").read_bytes())[0] == 600
    assert not (project.root / "out").exists()


def test_a_missing_chromium_is_one_error_line_with_the_way_to_install_it(project, monkeypatch):
    monkeypatch.setenv(CHROMIUM_VARIABLE, "/nowhere/chromium")
    result = CliRunner().invoke(screenshot, ["1"], obj=project.root)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: Chromium not found at /nowhere/chromium (hint: install Debian's chromium "
        f"(sudo apt-get install chromium), or set {CHROMIUM_VARIABLE} to a Chromium or Chrome "
        "program)"]
    assert not (project.root / "out").exists()


def test_a_program_that_is_not_chromium_is_one_error_line(project, monkeypatch):
    monkeypatch.setenv(CHROMIUM_VARIABLE, "/bin/false")
    result = CliRunner().invoke(screenshot, ["1"], obj=project.root)
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert len(errors) == 1
    assert errors[0].startswith("Error: Chromium at /bin/false did not start: ")
    assert errors[0].endswith("(hint: install Debian's chromium (sudo apt-get install chromium), "
                              f"or set {CHROMIUM_VARIABLE} to a Chromium or Chrome program)")


def test_an_unknown_issue_or_a_broken_project_starts_no_browser(project):
    result = CliRunner().invoke(screenshot, ["9"], obj=project.root)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no issue '9'")
    project.write("content/alpha.md", "no front matter\n")
    result = CliRunner().invoke(screenshot, ["1"], obj=project.root)
    assert result.exit_code == 1
    assert all(line.startswith("Error: ") for line in result.stderr.splitlines())


def _top_left_pixel(path: Path) -> tuple[int, int, int]:
    """The first pixel's colour, decoded by hand: the test trusts no image library.

    Whatever filter the first row uses, its first pixel is stored as it is (every
    predictor of a pixel with no left or upper neighbour is 0).
    """
    data = path.read_bytes()
    offset, idat = 8, b""
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"IDAT":
            idat += data[offset + 8:offset + 8 + length]
        offset += 12 + length
    bit_depth, colour_type = data[24], data[25]
    assert bit_depth == 8 and colour_type in (2, 6)  # RGB or RGBA
    row = zlib.decompressobj().decompress(idat, 8)
    return tuple(row[1:4])
