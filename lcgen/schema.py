"""The sample schema, declared once: field order, Arrow types and the ``datasets`` features derived from them."""

from __future__ import annotations

import json

import pyarrow as pa

MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])

FIELDS: list[tuple[str, pa.DataType, str]] = [
    ("id", pa.string(), "unique id: family/variant/length/depth/index"),
    ("task", pa.string(), "family name"),
    ("variant", pa.string(), "variant (the dataset config)"),
    ("input", pa.string(), "the full prompt exactly as a model gets it (chat template applied, when one was)"),
    ("messages", pa.list_(MESSAGE), "the same prompt as chat messages, for APIs and harnesses that apply the "
                                    "model's chat template themselves"),
    ("question", pa.string(), "the question part of the prompt"),
    ("answer", pa.string(), "the exact reference answer, in the format the prompt asks for"),
    ("answers", pa.list_(pa.string()), "the atomic items the answer contains"),
    ("length", pa.int64(), "tokens of input under `tokenizer`"),
    ("target_length", pa.int64(), "requested tokens"),
    ("tokenizer", pa.string(), "tokenizer name"),
    ("tokenizer_hash", pa.string(), "sha256 of the tokenizer's vocabulary file"),
    ("depth", pa.list_(pa.float64()), "measured depth of each needle, percent of context tokens before it"),
    ("target_depth", pa.float64(), "requested depth, percent"),
    ("seed", pa.int64(), "the run's seed"),
    ("meta", pa.string(), "JSON: family details (needle keys, character offsets, knobs)"),
    ("lcgen_version", pa.string(), "lcgen version that made the sample"),
]

FIELD_NAMES = [name for name, _, _ in FIELDS]

INPUT_IDS: tuple[str, pa.DataType, str] = (
    "input_ids", pa.list_(pa.int32()), "token ids of input under `tokenizer` (only with --input-ids; special "
                                       "tokens of a chat template included)")
"""The optional column a training set asks for: lcgen has tokenized the text anyway."""


def fields(input_ids: bool = False) -> list[tuple[str, pa.DataType, str]]:
    return FIELDS + [INPUT_IDS] if input_ids else FIELDS


def _feature(dtype: pa.DataType) -> dict:
    if pa.types.is_list(dtype):
        return {"feature": _feature(dtype.value_type), "_type": "List"}
    if pa.types.is_struct(dtype):
        return {f.name: _feature(f.type) for f in dtype}
    return {"dtype": str(dtype).replace("double", "float64"), "_type": "Value"}


def features_json(input_ids: bool = False) -> dict:
    """The ``datasets`` Features dict, as stored under the ``huggingface`` key of the Arrow schema metadata."""
    return {name: _feature(dtype) for name, dtype, _ in fields(input_ids)}


def features_yaml(input_ids: bool = False) -> list[dict]:
    """The card's ``dataset_info.features`` list."""
    out = []
    for name, dtype, _ in fields(input_ids):
        if pa.types.is_list(dtype) and pa.types.is_struct(dtype.value_type):
            out.append({"name": name, "list": [{"name": f.name, "dtype": _feature(f.type)["dtype"]}
                                               for f in dtype.value_type]})
        elif pa.types.is_list(dtype):
            out.append({"name": name, "list": _feature(dtype.value_type)["dtype"]})
        else:
            out.append({"name": name, "dtype": _feature(dtype)["dtype"]})
    return out


def schema(input_ids: bool = False) -> pa.Schema:
    return pa.schema(
        [pa.field(name, dtype) for name, dtype, _ in fields(input_ids)],
        metadata={"huggingface": json.dumps({"info": {"features": features_json(input_ids)}})},
    )


SCHEMA = schema()
SCHEMA_WITH_IDS = schema(input_ids=True)
