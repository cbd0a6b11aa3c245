"""``augstudy data info``: splits, image size, classes and cache; bad params as one line, exit 2."""
from __future__ import annotations

from typer.testing import CliRunner

from augstudy.cli import app, parse_key_values

from data_fixtures import cache_env  # noqa: F401


def test_data_info_prints_splits_size_classes_and_cache(cache_env):
    args = ["data", "info", "synthetic", "--param", "n_train=40", "--param", "n_test=20", "-p", "size=16",
            "-p", "palette=false", "-p", "object_scale=[0.5, 0.6]"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "train     40 images" in r.output and "test      20 images" in r.output
    assert "3 x 16 x 16" in r.output and "disc, triangle-stripes" in r.output
    assert str(cache_env) in r.output
    assert "(cache hit)" in CliRunner().invoke(app, args).output


def test_data_info_bad_input_is_one_line_exit_2(tmp_path):
    for args, needle in [(["synthetic", "-p", "bogus=1"], "no param 'bogus'"),
                         (["synthetic", "-p", "novalue"], "expected key=value"),
                         (["nosuchset"], "unknown dataset 'nosuchset'"),
                         (["imagefolder", "-p", f"root={tmp_path / 'missing'}"], "does not exist")]:
        r = CliRunner().invoke(app, ["data", "info", *args])
        assert r.exit_code == 2, (args, r.output)
        assert needle in r.output and "Traceback" not in r.output


def test_param_values_are_yaml_scalars():
    assert parse_key_values(["a=1", "b=0.5", "c=true", "d=text", "e=[1, 2]", "f="]) == {
        "a": 1, "b": 0.5, "c": True, "d": "text", "e": [1, 2], "f": None}
