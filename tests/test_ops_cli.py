"""`augstudy ops` and `augstudy preview`."""
import torch
from typer.testing import CliRunner

from augstudy.cli import app

runner = CliRunner()


def test_ops_lists_every_operator_with_params():
    res = runner.invoke(app, ["ops"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for name in ("crop", "color", "color_jitter", "color_drop", "blur", "sobel", "noise", "rotate", "cutout", "flip"):
        assert name in res.output
    assert "strength=1 [0, 2.5]" in res.output and "scale_min=0.08 (0, 1]" in res.output
    assert "Random resized crop" in res.output


def test_preview_writes_png(tmp_path):
    out = tmp_path / "sheet.png"
    res = runner.invoke(app, ["preview", "--ops", "crop,color(strength=0.5),blur", "--out", str(out), "--draws", "2"])
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_preview_from_image_file_and_folder(tmp_path):
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(2):
        Image.fromarray((torch.rand(20, 30, 3) * 255).byte().numpy()).save(folder / f"{i}.png")
    for src in (folder / "0.png", folder):
        out = tmp_path / f"{src.name}.png"
        res = runner.invoke(app, ["preview", "--ops", "rotate", "--input", str(src), "--out", str(out), "--size", "16"])
        assert res.exit_code == 0, res.output
        assert out.exists()


def test_preview_bad_input_is_one_line(tmp_path):
    res = runner.invoke(app, ["preview", "--ops", "crop,colr", "--out", str(tmp_path / "x.png")])
    assert res.exit_code == 2
    assert "unknown operator 'colr' (did you mean 'color'?)" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["preview", "--input", str(tmp_path / "nope"), "--out", str(tmp_path / "x.png")])
    assert res.exit_code == 2 and "neither an image file, a folder nor a registered dataset" in res.output
    (tmp_path / "empty").mkdir()
    res = runner.invoke(app, ["preview", "--input", str(tmp_path / "empty"), "--out", str(tmp_path / "x.png")])
    assert res.exit_code == 2 and "no images" in res.output


def test_help_of_ops_and_preview():
    for cmd in (["ops", "--help"], ["preview", "--help"]):
        res = runner.invoke(app, cmd, env={"COLUMNS": "200"})
        assert res.exit_code == 0 and "Usage" in res.output
    assert "--input" in runner.invoke(app, ["preview", "--help"], env={"COLUMNS": "200"}).output
