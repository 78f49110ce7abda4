"""Generate PEP 561 type stubs (``fabric_protos-stubs``) for hyperledger-fabric-protos.

The wheel of ``hyperledger-fabric-protos`` ships ``py.typed`` but no ``.pyi`` files, so
every message class is invisible to mypy (``Module has no attribute ...``). This script
walks the installed package, reads each ``*_pb2`` module's file descriptor, and writes a
stub for it. Run it after upgrading the protos package::

    uv run python gateway/tools/gen_protos_stubs.py

The stubs are marked *partial*, so modules without a stub (the ``*_pb2_grpc`` service
helpers, which this client does not use) fall back to the runtime package.
"""

from __future__ import annotations

import importlib
import keyword
import pkgutil
import shutil
import sys
from pathlib import Path

from google.protobuf.descriptor import (
    Descriptor,
    EnumDescriptor,
    FieldDescriptor,
    FileDescriptor,
)

OUT = Path(__file__).resolve().parents[1] / "src" / "fabric_protos-stubs"

_SCALAR = {
    FieldDescriptor.TYPE_DOUBLE: "builtins.float",
    FieldDescriptor.TYPE_FLOAT: "builtins.float",
    FieldDescriptor.TYPE_INT64: "builtins.int",
    FieldDescriptor.TYPE_UINT64: "builtins.int",
    FieldDescriptor.TYPE_INT32: "builtins.int",
    FieldDescriptor.TYPE_FIXED64: "builtins.int",
    FieldDescriptor.TYPE_FIXED32: "builtins.int",
    FieldDescriptor.TYPE_BOOL: "builtins.bool",
    FieldDescriptor.TYPE_STRING: "builtins.str",
    FieldDescriptor.TYPE_BYTES: "builtins.bytes",
    FieldDescriptor.TYPE_UINT32: "builtins.int",
    FieldDescriptor.TYPE_ENUM: "builtins.int",
    FieldDescriptor.TYPE_SFIXED32: "builtins.int",
    FieldDescriptor.TYPE_SFIXED64: "builtins.int",
    FieldDescriptor.TYPE_SINT32: "builtins.int",
    FieldDescriptor.TYPE_SINT64: "builtins.int",
}


def _module_for_file(fd: FileDescriptor) -> str:
    name = fd.name.removesuffix(".proto").replace("/", ".") + "_pb2"
    if name.startswith("google.protobuf."):
        return name
    return "fabric_protos." + name


def _alias(module: str) -> str:
    return "_" + module.replace(".", "_")


class _Writer:
    def __init__(self, fd: FileDescriptor) -> None:
        self.fd = fd
        self.module = _module_for_file(fd)
        self.imports: set[str] = set()
        self.lines: list[str] = []

    def ref(self, desc: Descriptor) -> str:
        module = _module_for_file(desc.file)
        local = desc.full_name
        if desc.file.package:
            local = local[len(desc.file.package) + 1 :]
        if module == self.module:
            return local
        self.imports.add(module)
        return f"{_alias(module)}.{local}"

    def field_getter(self, f: FieldDescriptor) -> tuple[str, bool]:
        """(annotation, is_message_like) of a field as read from a message."""
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            mt = f.message_type
            if mt.GetOptions().map_entry:
                k = _SCALAR[mt.fields_by_name["key"].type]
                v = mt.fields_by_name["value"]
                if v.type == FieldDescriptor.TYPE_MESSAGE:
                    return f"_containers.MessageMap[{k}, {self.ref(v.message_type)}]", True
                return f"_containers.ScalarMap[{k}, {_SCALAR[v.type]}]", True
            if _is_repeated(f):
                return f"_containers.RepeatedCompositeFieldContainer[{self.ref(mt)}]", True
            return self.ref(mt), True
        scalar = _SCALAR[f.type]
        if _is_repeated(f):
            return f"_containers.RepeatedScalarFieldContainer[{scalar}]", True
        return scalar, False

    def field_init(self, f: FieldDescriptor) -> str:
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            mt = f.message_type
            if mt.GetOptions().map_entry:
                k = _SCALAR[mt.fields_by_name["key"].type]
                v = mt.fields_by_name["value"]
                vt = (
                    self.ref(v.message_type)
                    if v.type == FieldDescriptor.TYPE_MESSAGE
                    else _SCALAR[v.type]
                )
                return f"typing.Mapping[{k}, {vt}] | None"
            if _is_repeated(f):
                return f"typing.Iterable[{self.ref(mt)}] | None"
            return f"{self.ref(mt)} | None"
        scalar = _SCALAR[f.type]
        if _is_repeated(f):
            return f"typing.Iterable[{scalar}] | None"
        return f"{scalar} | None"

    def enum(self, e: EnumDescriptor, indent: str) -> None:
        wrapper = f"_{e.name}EnumTypeWrapper"
        self.lines.append(f"{indent}class {wrapper}(_enum_type_wrapper.EnumTypeWrapper):")
        for v in e.values:
            self.lines.append(f"{indent}    {v.name}: builtins.int")
        if not e.values:
            self.lines.append(f"{indent}    ...")
        self.lines.append(f"{indent}{e.name}: {wrapper}")
        for v in e.values:
            self.lines.append(f"{indent}{v.name}: builtins.int")

    def message(self, m: Descriptor, indent: str) -> None:
        self.lines.append(f"{indent}class {m.name}(_message.Message):")
        inner = indent + "    "
        self.lines.append(f"{inner}DESCRIPTOR: _descriptor.Descriptor")
        for e in m.enum_types:
            self.enum(e, inner)
        for nested in m.nested_types:
            if nested.GetOptions().map_entry:
                continue
            self.message(nested, inner)
        params: list[str] = []
        for f in m.fields:
            if keyword.iskeyword(f.name):
                continue
            ann, readonly = self.field_getter(f)
            if readonly:
                self.lines.append(f"{inner}@property")
                self.lines.append(f"{inner}def {f.name}(self) -> {ann}: ...")
            else:
                self.lines.append(f"{inner}{f.name}: {ann}")
            params.append(f"{f.name}: {self.field_init(f)} = ...")
        if params:
            self.lines.append(f"{inner}def __init__(self, *, {', '.join(params)}) -> None: ...")
        else:
            self.lines.append(f"{inner}def __init__(self) -> None: ...")

    def render(self) -> str:
        for e in self.fd.enum_types_by_name.values():
            self.enum(e, "")
        for m in self.fd.message_types_by_name.values():
            self.message(m, "")
        head = [
            f"# Generated by gateway/tools/gen_protos_stubs.py from {self.fd.name}. Do not edit.",
            "# ruff: noqa",
            "import builtins",
            "import typing",
            "from google.protobuf import descriptor as _descriptor",
            "from google.protobuf import message as _message",
            "from google.protobuf.internal import containers as _containers",
            "from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper",
        ]
        head += [f"import {mod} as {_alias(mod)}" for mod in sorted(self.imports)]
        head.append("")
        head.append("DESCRIPTOR: _descriptor.FileDescriptor")
        return "\n".join([*head, *self.lines, ""])


def _is_repeated(f: FieldDescriptor) -> bool:
    return f.label == FieldDescriptor.LABEL_REPEATED


def main() -> int:
    import fabric_protos

    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    (OUT / "py.typed").write_text("partial\n")
    (OUT / "__init__.pyi").write_text("# ruff: noqa\n")
    count = 0
    for info in pkgutil.walk_packages(fabric_protos.__path__, "fabric_protos."):
        rel = Path(*info.name.split(".")[1:])
        if info.ispkg:
            (OUT / rel).mkdir(parents=True, exist_ok=True)
            (OUT / rel / "__init__.pyi").write_text("# ruff: noqa\n")
            continue
        if not info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(info.name)
        fd: FileDescriptor = module.DESCRIPTOR
        (OUT / rel).parent.mkdir(parents=True, exist_ok=True)
        (OUT / rel).with_suffix(".pyi").write_text(_Writer(fd).render())
        count += 1
    print(f"wrote {count} stubs under {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
