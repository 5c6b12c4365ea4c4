"""Dataset folders: Hub layout, card, offline load_dataset round trip, and golden content hashes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lcgen.registry import families

from lcgen.dataset import read_card
from lcgen.make import MakeRequest, make

# sha256 of the canonical JSON of every row of the reference datasets below. A change here changes generated
# data: bump lcgen's version (or the family's) and record it in CHANGELOG.md.
GOLDEN = {
    "cl100k_base": "ffca4c9e49997bc85069910a2f4ceb72365ea962791805a08bdfb80a0bae3358",
    "o200k_base": "8dceb2fc241221cfcec395b96d3d45bb3d7119db95ae36a234f09e9f107f5bdd",
}


def canonical_sha256(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.parquet")):
        for row in pq.read_table(path).to_pylist():
            digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


# Every file one small dataset of each family ships: its rows (canonical JSON, as above) and the card, metric and
# harness files byte for byte. A family's metric file must change only when its own metric does; a change anywhere
# here is a version bump and a CHANGELOG line.
GOLDEN_FILES: dict[str, dict[str, str]] = {
    "ancestral-trace": {
        "rows": "00aeaf7b90ef4044e6dbc131eb920dc0fdd9ddfb64fbad4876d34436195bb828",
        "README.md": "c2335029568dda868872d88a64406f9132fd071104488e0a519f756c555514fd",
        "harness/inspect_task.py": "c79667f29646123e7e2068e0bc5e2493bd9c9628616f2f5ce878f6076cba2d8a",
        "harness/lm_eval/_lcgen_ancestral_trace_base.yaml":
            "aea45ff727a5efd5510817d0e0331077ec1f2842bcbdafb2f529fe8db6e90c25",
        "harness/lm_eval/lcgen_ancestral_trace.yaml":
            "e00992aed9e47354b043ff63b4e2c47cf9424c663aee4c9f1f6a5fb364c42e04",
        "harness/lm_eval/lcgen_ancestral_trace_eldest_ancestor_2k.yaml":
            "791733e7c900fc59ce1cba4fbaf408e436f960db13a1b0e41f75de843b491805",
        "harness/lm_eval/utils.py": "33e2494e867d1a96b8adb0bd816d8d1c138771c63ae7a41d701d386e6bd34855",
        "lcgen_metrics.py": "aa144b3d5e0f8e0ba3d3839b8ae7089a0dd6ba12b1ba88437bd3b10a5acae1a5",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "holistic-queries": {
        "rows": "f894530b24c00cb84006b46f2bbb17657466d0c063b10cabfaed71f321bcf0a1",
        "README.md": "4c32ae27c71f5548c03679a5774733bfeb6b82ea30711772e1f7a73089a38a9d",
        "harness/inspect_task.py": "ed94a89a18c62612ce38fbf78fa4b0e637b527a988a1bc372a58e57af8f33cc2",
        "harness/lm_eval/_lcgen_holistic_queries_base.yaml":
            "424094c9337dc42583935e996ebc6fa6fcabb15a19a3fa28dde098c829adbb85",
        "harness/lm_eval/lcgen_holistic_queries.yaml":
            "8effdb5977d98f8741433ec64b895fe5f5afe24f6b5591efa379997df663847f",
        "harness/lm_eval/lcgen_holistic_queries_selection_2k.yaml":
            "d25adff07f97cb9756f8dfc9a5684dad51e115b3003c94781f715ad792a062c1",
        "harness/lm_eval/utils.py": "40ef2380c978859d06c2771be964707662ece1451dc9150c610fa881d0822443",
        "lcgen_metrics.py": "4df7bcdf357977694615b756f7f423a9b556bdf36a045c90cbd81af42fc5c45c",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "needle-threads": {
        "rows": "dc0ce5ad3edeb3e857a500981834ca4510026dd5eaf40a4128f16ad4637a985e",
        "README.md": "d7dc89edfe60dfb8de08f5f28559bdebabab96ffbe1c045a3f781ef230bb2677",
        "harness/inspect_task.py": "ad44961cf242491eb4bff5cb7e13777820e2e9ea3b9bb47ff5d388e7c97beed3",
        "harness/lm_eval/_lcgen_needle_threads_base.yaml":
            "24e3dee4eed2c554a0688fecbaa5af64e773934ec80d892f45fcd4b2075df9c9",
        "harness/lm_eval/lcgen_needle_threads.yaml": "366876f237853bbf5699b7ef100ab3c763809eddacb68b26edeb7d998788655a",
        "harness/lm_eval/lcgen_needle_threads_single_needle_2k.yaml":
            "fea5191404e30814dfed73f9f61f58bf13c89a5692de4abc02293d3b0d6efa82",
        "harness/lm_eval/utils.py": "5555315e964be4474f09ec942a4bba302ecfbc033c1b169318034d5324e0b101",
        "lcgen_metrics.py": "972452bd657cc6010c45010885eb3cd09a69c287eee2499a7e8eb11d4c08f814",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "needles": {
        "rows": "91e576d4ca54a21f00a2bf565a64129c6dce9e34a9ddbf8b9395072299af2f59",
        "README.md": "0b4e23fb3038884dc469879c733011e5b83c460e5f450cf0afd30c06142333e5",
        "harness/inspect_task.py": "a5c99888bf6d3fdfd69089603da43f1f06404c31205a847811b7445b30667691",
        "harness/lm_eval/_lcgen_needles_base.yaml": "9faa302b0f959f76e14402a63c88f3d450e4fdfc383378a1f1b832cd1d3569dd",
        "harness/lm_eval/lcgen_needles.yaml": "be9027876ddf5dd38bf0df6a49aecee070bb4e95abbb3b311164feffee7f7c4f",
        "harness/lm_eval/lcgen_needles_single_retrieval_2k.yaml":
            "d8a933e0962490f2ebc9d70f3d21bc0b32d13e90b3c2e13a79e9af595b4884e7",
        "harness/lm_eval/utils.py": "432c417506dcfc9cb8e2bfc03762be8653626209ab2e5e0a95baea5ee3f6fe05",
        "lcgen_metrics.py": "469401275eb6c7abfbe1344bbfc57c32a1d3e681197ec86ba6de36ca2e8ba3f9",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
}


def shipped_sha256s(folder: Path) -> dict[str, str]:
    files = {"rows": canonical_sha256(folder)}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix != ".parquet":
            files[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


@pytest.mark.parametrize("family", sorted(families.names()))
def test_golden_shipped_files(tmp_path, family):
    spec = families.get(family)
    variant = spec.variant_names()[0]
    req = MakeRequest(family=family, lengths=[2000], seed=1, depths=[50.0] if spec.depth_of else [0.0],
                      variants=[variant], command=f"lcgen make {family} --len 2k --seed 1 --depths 50 "
                                                  f"--variants {variant}")
    make(req, tmp_path / "ref", workers=1)
    got = shipped_sha256s(tmp_path / "ref")
    assert got == GOLDEN_FILES.get(family), f"new hashes for {family}: {got}"


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("made") / "ds"
    req = MakeRequest(family="needle-threads", lengths=[1500, 4096], seed=3, depths=[0.0, 60.0], samples=2,
                      command="lcgen make needle-threads --len 1500,4Ki --seed 3 --depths 0,60 --samples 2")
    make(req, out, workers=1)
    return out


@pytest.mark.parametrize("tokenizer", sorted(GOLDEN))
def test_golden_reference_dataset(tmp_path, tokenizer):
    req = MakeRequest(family="needle-threads", lengths=[2000], seed=1, depths=[50.0], tokenizer=tokenizer)
    make(req, tmp_path / "ref", workers=1)
    assert canonical_sha256(tmp_path / "ref") == GOLDEN[tokenizer]


def test_layout_and_card(made):
    header = read_card(made)
    configs = {c["config_name"]: c for c in header["configs"]}
    assert list(configs) == ["single_needle", "multiple_needles", "conditional_needles", "threads", "multi_threads",
                             "branched_threads"]
    for cfg in configs.values():
        assert [d["split"] for d in cfg["data_files"]] == ["1500", "4Ki"]
        for d in cfg["data_files"]:
            files = sorted(made.glob(d["path"]))
            assert [f.name for f in files] == [f"{d['split']}-00000-of-00001.parquet"]
            assert pq.read_metadata(files[0]).num_rows == 4
    info = {i["config_name"]: i for i in header["dataset_info"]}
    assert info["threads"]["splits"][1] == {"name": "4Ki", "num_bytes": info["threads"]["splits"][1]["num_bytes"],
                                            "num_examples": 4}
    text = (made / "README.md").read_text()
    vocab = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
    for fact in ("lcgen make needle-threads --len 1500,4Ki", "| seed | 3 |", "cl100k_base", vocab,
                 "| threads | 4Ki | 4 | 4096 | 4096 |", "Needle Threading"):
        assert fact in text, fact
    assert not list(made.parent.glob(".*incomplete*"))


def test_load_dataset_round_trip_offline(made, tmp_path):
    datasets = pytest.importorskip("datasets")
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    for config in [c["config_name"] for c in read_card(made)["configs"]]:
        for split in ("1500", "4Ki"):
            # A private cache: datasets keys local folders by path, and pytest reuses temporary paths.
            ds = datasets.load_dataset(str(made), config, split=split, cache_dir=str(tmp_path / "cache"))
            direct = pq.read_table(next(made.glob(f"data/{config}/{split}-*.parquet"))).to_pylist()
            assert ds.num_rows == 4
            assert [dict(r) for r in ds] == direct
            assert ds.features["answers"].feature.dtype == "string"
            assert ds.features["depth"].feature.dtype == "float64"


def test_samples_are_independent_of_what_else_is_made(made, tmp_path):
    req = MakeRequest(family="needle-threads", lengths=[4096], seed=3, depths=[60.0], samples=2,
                      variants=["threads"])
    make(req, tmp_path / "one", workers=1)
    alone = pq.read_table(next((tmp_path / "one").glob("data/threads/*.parquet"))).to_pylist()
    together = [r for r in pq.read_table(next(made.glob("data/threads/4Ki-*.parquet"))).to_pylist()
                if r["target_depth"] == 60.0]
    assert alone == together
