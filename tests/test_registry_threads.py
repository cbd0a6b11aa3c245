"""The first lookup in a registry imports its built-in modules; a second thread looking up meanwhile
(Dask runs cells in threads) must wait for them, never see a half-filled registry."""
import sys
import threading

from augstudy.registry import Registry


def test_a_lookup_during_the_first_import_waits_for_the_builtins(tmp_path, monkeypatch):
    started, go = threading.Event(), threading.Event()
    reg = Registry("thing", builtins=["slow_builtins_for_test"])
    (tmp_path / "slow_builtins_for_test.py").write_text(
        "import threading_hooks_for_test as h\n"
        "h.started.set()\n"
        "h.go.wait()\n"
        "h.reg.add('late', object())\n")
    hooks = type(sys)("threading_hooks_for_test")
    hooks.started, hooks.go, hooks.reg = started, go, reg
    monkeypatch.setitem(sys.modules, "threading_hooks_for_test", hooks)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "slow_builtins_for_test", raising=False)

    found: dict[str, object] = {}

    def look(key: str) -> None:
        try:
            found[key] = "late" in reg
        except Exception as e:  # noqa: BLE001 - recorded for the assertion
            found[key] = e

    first = threading.Thread(target=look, args=("first",))
    first.start()
    assert started.wait(60)  # the first lookup is inside the built-in import now
    second = threading.Thread(target=look, args=("second",))
    second.start()
    second.join(0.5)  # give the second lookup the chance to run ahead (it must not)
    go.set()
    first.join(60)
    second.join(60)
    assert found == {"first": True, "second": True}
