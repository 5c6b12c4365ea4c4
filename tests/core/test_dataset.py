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
    "cl100k_base": "ab9d4ec94f6af13056196b07ed19b30c91fc1cd364e5337978ebe3be5e269930",
    "o200k_base": "b3a703b192aaeba1983c2f9351a5993f6672fc20cc7bff210d94ffd8ca9a44e0",
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
        "rows": "cc2cdeb3b1de62f152eb4fd4e7f36ded0c70c3740c92289613c46dd035f8ccd9",
        "README.md": "3ad8e18e3b14d4d629c07683cf4f70a69019e4907f65c68ad1c1bb23c4b80416",
        "harness/inspect_task.py": "179dd0f316b779108c10ab548461b1f5338460d2f0ffaacc6f66a66cc1ace85d",
        "harness/lm_eval/_lcgen_ancestral_trace_base.yaml":
            "0a154fc89626e48d3c409a75fcf06562e643cca763c77edf738a2f11d4c6f955",
        "harness/lm_eval/lcgen_ancestral_trace.yaml":
            "e00992aed9e47354b043ff63b4e2c47cf9424c663aee4c9f1f6a5fb364c42e04",
        "harness/lm_eval/lcgen_ancestral_trace_eldest_ancestor_2k.yaml":
            "83436098db7bdbb1bd45037dbc61276462c42c12066d653ba63dbdd76c3786b4",
        "harness/lm_eval/utils.py": "1df658fda01204f92ecd8336f9d481f9e6554d903ae66f5c0af5344e14a92f33",
        "lcgen_metrics.py": "aa144b3d5e0f8e0ba3d3839b8ae7089a0dd6ba12b1ba88437bd3b10a5acae1a5",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "best-answer": {
        "rows": "0383d4d5f8d0086d539048b5ff2d1ef7f98005e1decfdd11d61f80a921ecd0f5",
        "README.md": "97dd4d29334064572ec63cf1a28c85231b4afa5d660b45f1f67f944a2176edbc",
        "harness/inspect_task.py": "4733a709d930ce794e68437c1512c6e887e0e0110f5d2fd1e7090a440094961a",
        "harness/lm_eval/_lcgen_best_answer_base.yaml":
            "c775c2991a46fd4e2edbb29cc01db3d201c90772fe16c3a15fbe6bfe72f8299a",
        "harness/lm_eval/lcgen_best_answer.yaml": "6fd1c2e0b6b250662f3e20c9fd86ad8c99a6ef7b726b12ffc0e1746065b32403",
        "harness/lm_eval/lcgen_best_answer_single_2k.yaml":
            "17a1aec9e4103258ef643bfc22adc0d65bafffe38863de940f64fbe924e47c97",
        "harness/lm_eval/utils.py": "6c38892bd0bfb54a4c7feeffe415be895f77ebc04642ff8192f150eff2792e49",
        "lcgen_metrics.py": "211feb163dfdae4e8eb138a778ce73733b2739348daae13a6a92eae61cc59cde",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "holistic-queries": {
        "rows": "622c379eba74e509b8639722e3b3c832b17bc795d14c6eb7100c00d5a3cedbdd",
        "README.md": "829fb408837003c94f661881463dbf97266a2e8a032aae72f1f6d62618621c37",
        "harness/inspect_task.py": "d96ee5f882a1640f1e8dc264f97bf894c36116ba1ecc86f0c0237423654f4697",
        "harness/lm_eval/_lcgen_holistic_queries_base.yaml":
            "012e5abe21b1ad80bffeb4e4696e04653cfa979e876f018df6e26c4c51a6ec98",
        "harness/lm_eval/lcgen_holistic_queries.yaml":
            "8effdb5977d98f8741433ec64b895fe5f5afe24f6b5591efa379997df663847f",
        "harness/lm_eval/lcgen_holistic_queries_selection_2k.yaml":
            "69d19d929f5b1ec7440a89cc4e626a20b91a9d14bda32206f2bdfd504e0dfc24",
        "harness/lm_eval/utils.py": "e943539936915cbc5673a15cb86e755783623365b4947ef3c331b19ce8652ba7",
        "lcgen_metrics.py": "4df7bcdf357977694615b756f7f423a9b556bdf36a045c90cbd81af42fc5c45c",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "needle-threads": {
        "rows": "419e0f3f25c00cc557e7025cf779087b9cea15dd51d7f6e278a98dda92086399",
        "README.md": "e6cc3e96a6310b3794f0470f7cdd1cd7cfe508b1842846e01d998f96ae537a91",
        "harness/inspect_task.py": "daa013f43574edce1769ba52a105bbdd001b61e4d16a4b3a416d4009aae5cd9f",
        "harness/lm_eval/_lcgen_needle_threads_base.yaml":
            "1caab662e47e601e97a4f552e152bcddd8fa03fa51918a3e580ccb08d01696c3",
        "harness/lm_eval/lcgen_needle_threads.yaml": "366876f237853bbf5699b7ef100ab3c763809eddacb68b26edeb7d998788655a",
        "harness/lm_eval/lcgen_needle_threads_single_needle_2k.yaml":
            "92aaf08f1083ad84f55716ab1e9a4f500fd15e88e55dfc0876e5c7a320736f0c",
        "harness/lm_eval/utils.py": "3a12b5a192c18347cfaa3c4e8a4dc16baacab80bc19a17e34a881e1c25bdf1fd",
        "lcgen_metrics.py": "972452bd657cc6010c45010885eb3cd09a69c287eee2499a7e8eb11d4c08f814",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "needles": {
        "rows": "75109a4aac6912bf51df15529337a1776d20bb33a3517339aa359e3710cb8220",
        "README.md": "b56658e0d9d390954dd47c81f81d480ee3c5cd69d17cc67eb8da8c22d7593b48",
        "harness/inspect_task.py": "488bc89c147c7cb9f1e4ad606b611b3120c141185340f09922f139c5bffbcec8",
        "harness/lm_eval/_lcgen_needles_base.yaml": "87f39e952838a9b14c031b9503680de7bc872105f0cbc6bacb15d975259e8705",
        "harness/lm_eval/lcgen_needles.yaml": "1627e75ca41402c20f4da209778f04884459039a7f8ebfe83febecd3c73ecd54",
        "harness/lm_eval/lcgen_needles_single_retrieval_2k.yaml":
            "19beec5950bdc1a33af21de458289c95882edcaf893ee3ef71681a2f75407724",
        "harness/lm_eval/utils.py": "bead4a7e75dfc44975a381cedb19a7225380211aca3ebed0ff9046de04379774",
        "lcgen_metrics.py": "469401275eb6c7abfbe1344bbfc57c32a1d3e681197ec86ba6de36ca2e8ba3f9",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "procedures": {
        "rows": "70a79dba5f3d4cf3eb91100043740d0b8b399fc504d6c022955372e402615a4d",
        "README.md": "447a7fea3a64ff69dc9d30c931885e60ccc4a90e542eafb1cf792ed1915c844e",
        "harness/inspect_task.py": "9f341d8c0f3c1b8801f00cf807176b44380c5b1fb623dce14a77da08e42a9ea2",
        "harness/lm_eval/_lcgen_procedures_base.yaml":
            "dba2d52376794fc1bf236220ec67e7ce7d691d5f52326dd35d22d3e6d3f39cf1",
        "harness/lm_eval/lcgen_procedures.yaml": "ad4e9ee475ebea86e3c8d6faba1e47e576df312c7122f60b0b7872d1e2c1c6e6",
        "harness/lm_eval/lcgen_procedures_path_traversal_2k.yaml":
            "7b98c7fa1026e7b9ca44ae4f6e330af44e43371721b3f88827ed5f0a742c587c",
        "harness/lm_eval/utils.py": "1cd070ad23fa185a832609645b29cd9c3f7fc577e98f7b3d07b08d9b53ffcb0e",
        "lcgen_metrics.py": "2f10fa5a9c8dc741434a47c030fbe7313d3daac9852d627a21fb7b498e8d6fbd",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "qa": {
        "rows": "e0d1b1b53700cfecc480739096c61ccc530e36444d50b4108ed18828b0c833cb",
        "README.md": "f29214a73c2c32e35a2cb2b427104a79ff5360e6dc72c0fe7307f4e1224f67d0",
        "harness/inspect_task.py": "5bf97c049176d38754b08b5edea74fd52bf00fc806ba8db05c045cff801dd487",
        "harness/lm_eval/_lcgen_qa_base.yaml": "58e47e6ef0dc420bed266b7270d87377b0b8350dd7eaea5b4363106fb3ac2e2b",
        "harness/lm_eval/lcgen_qa.yaml": "0f02beacf4a4ec551e88f7a3701cab4c2e33208e35afe73e066594577aa0a37e",
        "harness/lm_eval/lcgen_qa_single_fact_2k.yaml":
            "ce2921829b117eea0b23318b8df19fcd4f2117e12130423f2454ba8ae9cc628e",
        "harness/lm_eval/utils.py": "3ee378cc661d35915cdebbce64c7c1fd73b945aa36f5e7bdae0e0f452542e303",
        "lcgen_metrics.py": "82e3b0dd7210a7ec22486b39e68b15ee372545ff73ecc8e082bcfdde6e340bde",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "tsort": {
        "rows": "c6b029a7958ad1dd7af549fe4fbe784051dcd49b886c7fc5b54545dcd1045794",
        "README.md": "1007c2057ca36a4c7b32551c45fb39ca2b36fb1231570222cd62d03f3d767c4b",
        "harness/inspect_task.py": "3fff47330ef0c5701558aa5705209a3a9c55d729bfbd5f118d96ed26c836c2b7",
        "harness/lm_eval/_lcgen_tsort_base.yaml": "20dddf83936332786cfc2f9f90d17073331ed2a02843e01302ed9ff7de0949aa",
        "harness/lm_eval/lcgen_tsort.yaml": "8a918dba670f1896d190d1743350fbdcfd0fa12a9397b79be8fb853506112699",
        "harness/lm_eval/lcgen_tsort_order_2k.yaml": "7549cc249333fe495617571905ae529bbf439f8d813b87a3190d53c9a203ed20",
        "harness/lm_eval/utils.py": "e8c5fa449a439c0da84089c76ed8ed35c6c68444937effbe3590d6269663ecb7",
        "lcgen_metrics.py": "e4e38f070c228a8bab6b4fbf62fadf3eafdced1736bc96a03ac28c9047a76ba6",
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
