"""Loading a study file's YAML strictly: duplicate keys are an error, alias expansion is bounded.

PyYAML's ``safe_load`` keeps the last of two equal keys without a word, and expands aliases without a
limit (a 1 KB "billion laughs" file becomes a billion nodes in whatever walks it next). ``load_yaml``
refuses both with one line naming the file, the key and the lines.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from ..errors import SpecError

#: The most nodes a study file may stand for once its aliases are expanded (a real study has hundreds).
MAX_EXPANDED_NODES = 100_000


class YamlError(SpecError):
    """A study file that is not acceptable YAML (the message names the file and the line)."""


class StudyFileNotFoundError(YamlError, FileNotFoundError):
    """The study file does not exist."""


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate mapping keys."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the base class says so
                    break
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first at line {first + 1}, again at line "
                        f"{key_node.start_mark.line + 1})", key_node.start_mark)
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """How many nodes ``root`` stands for with every alias expanded (stops counting past ``limit``)."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        sizes[id(node)] = 1  # a recursive alias counts once here (it stays a reference when constructed)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        for child in children:
            total += size(child)
            if total > limit:
                break
        sizes[id(node)] = min(total, limit + 1)
        return sizes[id(node)]

    return size(root)


def load_yaml(path: Path, limit: int = MAX_EXPANDED_NODES):
    """The Python value of the YAML file ``path``; one-line :class:`YamlError` naming the file otherwise."""
    path = Path(path)
    if path.is_dir():
        raise YamlError(f"study file {path} is a directory; give a YAML file, e.g. {path / 'study.yaml'}")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise StudyFileNotFoundError(f"study file not found: {path}") from None
    except OSError as e:
        raise YamlError(f"study file {path} cannot be read: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise YamlError(f"study file {path} is not UTF-8 text (byte {e.start}: {raw[e.start:e.start + 1]!r}); "
                        "save it as UTF-8") from None
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, limit) > limit:
            raise YamlError(f"{path}: the YAML expands to more than {limit} nodes through its aliases "
                            "(&anchor / *alias); a study file needs far fewer")
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise YamlError(f"{path}: not valid YAML{where}: {getattr(e, 'problem', None) or e}") from None
    except RecursionError:
        raise YamlError(f"{path}: the YAML is nested too deeply") from None
    finally:
        loader.dispose()
