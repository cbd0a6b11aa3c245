"""Study files are read strictly: duplicate keys, alias bombs, non-UTF-8 bytes and directories each give one line."""
import subprocess
import sys
from pathlib import Path

import pytest

from augstudy.errors import AugstudyError
from augstudy.study import load_spec
from augstudy.study.yaml_loader import MAX_EXPANDED_NODES, load_yaml

QUICK = Path(__file__).resolve().parents[1] / "studies" / "quick.yaml"

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))


def test_duplicate_key_names_key_and_both_lines(tmp_path):
    f = tmp_path / "dup.yaml"
    f.write_text("name: first\nseeds: [0]\nname: second\n")
    with pytest.raises(AugstudyError, match=r"dup.yaml.*duplicate key 'name' \(first at line 1, again at line 3\)"):
        load_yaml(f)


def test_nested_duplicate_key(tmp_path):
    f = tmp_path / "dup.yaml"
    f.write_text("training:\n  epochs: 1\n  epochs: 2\n")
    with pytest.raises(AugstudyError, match=r"duplicate key 'epochs' \(first at line 2, again at line 3\)"):
        load_yaml(f)


def test_merge_keys_and_anchors_still_work(tmp_path):
    f = tmp_path / "ok.yaml"
    f.write_text("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n")
    assert load_yaml(f) == {"base": {"x": 1, "y": 2}, "other": {"x": 1, "y": 3}, "list": [{"x": 1, "y": 2}] * 2}


def test_alias_bomb_fails_with_one_line(tmp_path):
    f = tmp_path / "bomb.yaml"
    f.write_text(BOMB)
    assert len(BOMB) < 1200  # 9**9 leaves
    with pytest.raises(AugstudyError, match=f"bomb.yaml: the YAML expands to more than {MAX_EXPANDED_NODES} nodes"):
        load_yaml(f)


def test_non_utf8_names_the_file(tmp_path):
    f = tmp_path / "latin1.yaml"
    f.write_bytes("name: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(AugstudyError, match=r"latin1.yaml is not UTF-8"):
        load_yaml(f)


def test_directory_says_directory(tmp_path):
    with pytest.raises(AugstudyError, match="is a directory"):
        load_spec(tmp_path)


def test_missing_file_is_still_a_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="study file not found"):
        load_spec(tmp_path / "nope.yaml")


def test_real_study_file_loads():
    assert load_spec(QUICK).name


@pytest.mark.parametrize("text,expect", [
    ("name: a\nname: b\n", "duplicate key 'name'"),
    (BOMB, "expands to more than"),
])
def test_cli_prints_one_line(tmp_path, text, expect):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    p = subprocess.run([sys.executable, "-m", "augstudy.cli", "run", str(f), "--dry-run"],
                       capture_output=True, text=True, cwd=tmp_path,
                       env={**__import__("os").environ, "PYTHONPATH": str(QUICK.parents[1])})
    assert p.returncode == 2, p.stderr
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and expect in lines[0] and "Traceback" not in p.stderr, p.stderr


@pytest.mark.parametrize("command", [["run"], ["plan", "--detect", "1"]])
def test_the_cli_rejects_a_bad_file_before_importing_torch(tmp_path, command):
    """An alias bomb is refused before the heavy imports (which take seconds and 900 MB on a loaded machine)."""
    f = tmp_path / "bomb.yaml"
    f.write_text(BOMB)
    code = (f"import sys; from augstudy.cli import main; sys.argv = {['augstudy', command[0], str(f), *command[1:]]!r}\n"
            "try:\n    main()\n"
            "except SystemExit as e:\n    print('exit', e.code, 'torch' in sys.modules, file=sys.stderr)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert "expands to more than" in p.stderr and p.stderr.strip().endswith("exit 2 False"), p.stderr


@pytest.mark.parametrize("key,value,expect", [
    ("seeds", [10**23], r"seeds\[0\].*less than or equal to 9223372036854775807"),
    ("training.device", "banana", r"training.device: got 'banana'"),
    ("training.epochs", 10**12, r"training.epochs.*less than or equal to 100000"),
    ("training.batch_size", 10**9, r"training.batch_size"),
])
def test_values_checked_at_load(key, value, expect):
    import yaml

    d = yaml.safe_load(QUICK.read_text())
    *parents, last = key.split(".")
    node = d
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value
    with pytest.raises(AugstudyError, match=expect):
        load_spec(d)


def test_cuda_without_gpu_fails_at_load():
    import torch
    import yaml

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    d = yaml.safe_load(QUICK.read_text())
    d.setdefault("training", {})["device"] = "cuda"
    from augstudy.study.spec import check_device_here

    with pytest.raises(AugstudyError, match=r"training.device 'cuda': this machine has 0 CUDA device"):
        check_device_here(load_spec(d))
