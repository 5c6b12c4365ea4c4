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
    "cl100k_base": "59428433d519954d360854a205732947e9e51afd5de0f5aa43ed0de4d25674b7",
    "o200k_base": "c2bf3ffe490082fa84f97abad694b5a47fe9e647c7e99f896cf48f862b291c12",
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
        "rows": "6daa1be7e66d3ea6167a37d7a1ae1cd7fccd8db36521210366670d9d60829a37",
        "README.md": "d837a5cf41e30f54bb1e44ba79a11907a828d73ff910985d8b6d3cc7b902aa96",
        "harness/inspect_task.py": "75118f5e0b495b70b4c6f3c116c6cd0e8bfe404fca7abb16ec26243dddf52eeb",
        "harness/lm_eval/_lcgen_ancestral_trace_base.yaml":
            "6c5bea3b6dd348c620731f395adc19751dd6de2d5344140f0f3b63477d313870",
        "harness/lm_eval/lcgen_ancestral_trace.yaml":
            "e00992aed9e47354b043ff63b4e2c47cf9424c663aee4c9f1f6a5fb364c42e04",
        "harness/lm_eval/lcgen_ancestral_trace_eldest_ancestor_2k.yaml":
            "af8b2336fd890b34c33b5b6a2e2bc14eb375ef2dcf19c4a7dc6c3d4ca359942c",
        "harness/lm_eval/utils.py": "d1d9889451a38320da963c0474fd4be8286e509899f58ba03aa5a9906fecb1e5",
        "lcgen_metrics.py": "aa144b3d5e0f8e0ba3d3839b8ae7089a0dd6ba12b1ba88437bd3b10a5acae1a5",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "best-answer": {
        "rows": "9ca955437cb74b9b3959c8ddf0b17ca49987c09c594a60eea78c5b196a48b30c",
        "README.md": "600370904770aab495406f9080024deedc0c7c301c088f3d4aefe763bea9de36",
        "harness/inspect_task.py": "e6be62f574a11f3d607a1abd7f105a3a0be68a8ea4e36f8e7580fa7c20c1ce84",
        "harness/lm_eval/_lcgen_best_answer_base.yaml":
            "1c12fa37b164de8580d317475000368ffa1fefe269f3b1d52adb512f7a966728",
        "harness/lm_eval/lcgen_best_answer.yaml": "6fd1c2e0b6b250662f3e20c9fd86ad8c99a6ef7b726b12ffc0e1746065b32403",
        "harness/lm_eval/lcgen_best_answer_single_2k.yaml":
            "71a413111f07cbb1c7c9e009020fb42ddcfb9afd8e53b4ed49517142592b8cd3",
        "harness/lm_eval/utils.py": "bb24d63b7943ea296c6130d876c51129dffe2790d896308e35d898b2cea41647",
        "lcgen_metrics.py": "211feb163dfdae4e8eb138a778ce73733b2739348daae13a6a92eae61cc59cde",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "holistic-queries": {
        "rows": "83b8fec40e2c2688b5c279a89bd757bd56941459f85304a373bfe1faadfaf9a6",
        "README.md": "e292f5a66edac6f036126d533ae08d63a3fb8315137f1a8b4c1e0c1c680b9ac0",
        "harness/inspect_task.py": "6d29672497588a64ccf2f19b64aa19e83de3cfd3faca9c1339b0f18cbc9390d4",
        "harness/lm_eval/_lcgen_holistic_queries_base.yaml":
            "cbc44a5d9f6ea5acbd13052335f0befbcc50706d832e9d20c5a6ce2ad819a671",
        "harness/lm_eval/lcgen_holistic_queries.yaml":
            "8effdb5977d98f8741433ec64b895fe5f5afe24f6b5591efa379997df663847f",
        "harness/lm_eval/lcgen_holistic_queries_selection_2k.yaml":
            "05a4e8f1469e3a99306b0826caa9fbce252eed3cfdf35e86abdb6109d6cd0722",
        "harness/lm_eval/utils.py": "a830ebefc6a28c72c06f31ca794dd374a383270086086c5d94765a27eb154db3",
        "lcgen_metrics.py": "4df7bcdf357977694615b756f7f423a9b556bdf36a045c90cbd81af42fc5c45c",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "multihop-qa": {
        "rows": "ac13a25d00f8f13675bf686eb5b1ab27a9cf8a13341541bce0acae814274cc37",
        "README.md": "b6af0a46f74fa064b2568f207d2365c370c82347360f4472713b45e5c7fee0c4",
        "harness/inspect_task.py": "9014393f6ae76d8a8a9ce00d924135f16f0960fd0b2c5331432472de26ea76e0",
        "harness/lm_eval/_lcgen_multihop_qa_base.yaml":
            "3bd92dfb49047590584538d34b3c7bda0ea4ad45585fcac06c99fa3340889bd6",
        "harness/lm_eval/lcgen_multihop_qa.yaml": "1f54d1f47200a7f559c3c0025f698943289b3cca9d6a302dab2120cdca503c64",
        "harness/lm_eval/lcgen_multihop_qa_multi_hop_2k.yaml":
            "b5c1138b6eb6ade1840ed19774021f447deebfff296177b2a7659ac2c9ada84f",
        "harness/lm_eval/utils.py": "4e1d94541210539b2d577fb87db637999816b1ab0037c576a294eb8cba48b8db",
        "lcgen_metrics.py": "1631a959fecdf3a1296afc03e64c23c0932d4ec9cf84dacb6cbbfed28b19d6f4",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "needle-threads": {
        "rows": "4594db3e476a16cdb484fe4afef7c0ae9d4f6ead5c091691a9fd1d15e867b33c",
        "README.md": "88c56cf04b3f3efdced352635c25a71a0e1ff929ef6a5a9424f70c18b6ea9157",
        "harness/inspect_task.py": "4c60dffd29364724fdaab29dcea1c5ca43617c5d4019ed2e7c84147c9d918577",
        "harness/lm_eval/_lcgen_needle_threads_base.yaml":
            "67a4b242fc3773abd014be4e27c6ed76940964c318450579fb9b542744eb1742",
        "harness/lm_eval/lcgen_needle_threads.yaml": "366876f237853bbf5699b7ef100ab3c763809eddacb68b26edeb7d998788655a",
        "harness/lm_eval/lcgen_needle_threads_single_needle_2k.yaml":
            "5916faf8b3d87e332b4df06bbadf4f8c0895cf07123b5f1809aea67021b72a32",
        "harness/lm_eval/utils.py": "4508815f7a72eb652a2726b4fddef67cc1eac862c28ec0379537d8aca6f82294",
        "lcgen_metrics.py": "972452bd657cc6010c45010885eb3cd09a69c287eee2499a7e8eb11d4c08f814",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "needles": {
        "rows": "de26e6638c67b7bac892825d373f83b8753cb2efb67d7234c061c403134d9581",
        "README.md": "de0666e20e0106a3c2c79324e15b4ac90996c210a8a255214df648332b01523d",
        "harness/inspect_task.py": "c305463928654d70fb36004e30da38251f24698cc90d8625945f768c0711d9e1",
        "harness/lm_eval/_lcgen_needles_base.yaml": "15b6082ba5fcac38c89fb2dab8551703477b884b3fd59bc56672c51c8dbddba4",
        "harness/lm_eval/lcgen_needles.yaml": "1627e75ca41402c20f4da209778f04884459039a7f8ebfe83febecd3c73ecd54",
        "harness/lm_eval/lcgen_needles_single_retrieval_2k.yaml":
            "0448ba3a5ca87ee32c9af9b2f355059fbe308a4a22a046ee237723024542ac94",
        "harness/lm_eval/utils.py": "988bd6f387eb394437f6bdc4845027bbfee9b98d022667e084ad501ac685e06f",
        "lcgen_metrics.py": "469401275eb6c7abfbe1344bbfc57c32a1d3e681197ec86ba6de36ca2e8ba3f9",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "procedures": {
        "rows": "514dcc142bd83131dbf6267f63751132d91398496d17ddfb81d9664684b4c4be",
        "README.md": "9080fbef6969c48108a2201533be24de40b0d4ed05172427adb7c6c48eb8a375",
        "harness/inspect_task.py": "44bb78920764ef2a3405bee10b59bfb93f870878c711d7fc6cbbffd345e84c02",
        "harness/lm_eval/_lcgen_procedures_base.yaml":
            "afb16d94b7b3a0f4786254c60d8a4284cd76bd67394b8a161d15071c20c05588",
        "harness/lm_eval/lcgen_procedures.yaml": "ad4e9ee475ebea86e3c8d6faba1e47e576df312c7122f60b0b7872d1e2c1c6e6",
        "harness/lm_eval/lcgen_procedures_path_traversal_2k.yaml":
            "68da453ebf5612d4f401886de96b5371a82d5eca777d83411b0f094cbcd1a75d",
        "harness/lm_eval/utils.py": "22d11002987a0f2f4f08b55b4f1a83b093bcc4a507db3795a8200977a66b2f6b",
        "lcgen_metrics.py": "2f10fa5a9c8dc741434a47c030fbe7313d3daac9852d627a21fb7b498e8d6fbd",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "qa": {
        "rows": "6b2876cbbd1f498954499c0190ea43a8d16deb1d793de320a0a10489095b39a7",
        "README.md": "5a0ce89b28bc33119c823f255954a3733e54ff2eab9945219f668c5101cce3b8",
        "harness/inspect_task.py": "b2ab526ee7c2b9d32fe05898cbc5fc910ab87abf8279a12aaf434666973766f9",
        "harness/lm_eval/_lcgen_qa_base.yaml": "7f877ef26944c6b74b3af713f73fc418300a40c76b4135fc3aac60e8e6fe940f",
        "harness/lm_eval/lcgen_qa.yaml": "0f02beacf4a4ec551e88f7a3701cab4c2e33208e35afe73e066594577aa0a37e",
        "harness/lm_eval/lcgen_qa_single_fact_2k.yaml":
            "fed068cf6b4256c7df8a7c10375aa8a7e4fe34ee020a83fcb79bb582ff549cfe",
        "harness/lm_eval/utils.py": "cf6b9b042c717d2423f4305465d5f86d09d3491603ae3b2515c2faef0600614b",
        "lcgen_metrics.py": "82e3b0dd7210a7ec22486b39e68b15ee372545ff73ecc8e082bcfdde6e340bde",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "ruler": {
        "rows": "7a54b485153f0b3e15ae4ffc414b2b5402f295061b2d9c19ff55872f2ab923cf",
        "README.md": "7600c3c3762d89e8f0664b92f4ac68903a99da3ddea5c54357d7d5e4fc1ca4d4",
        "harness/inspect_task.py": "131181d22a8c55edfe6b38603f727368657c136c68a3fcb500d79be30faf3493",
        "harness/lm_eval/_lcgen_ruler_base.yaml": "e6cf88db1be3581e859a25b70a250027bb6496e1c8ebb35b5ad7362876f24ba5",
        "harness/lm_eval/lcgen_niah_single_1.yaml": "76201c92da2eaf3c739fc6629e9f18ed7053cf8254376980f96f65834eab44a1",
        "harness/lm_eval/lcgen_ruler.yaml": "08e76f434f2cb69eacffbc0630bca1fd6ed685d66ed5a38687d00c8ed8ad2ec1",
        "harness/lm_eval/utils.py": "d002c090c32eaeff553473f2edc520886400716649599a159617aaede72dff20",
        "lcgen_metrics.py": "d24803f21067c0443d4dd1ea3e2d87e7c1f2d8c9b8c9c73431c95a90be84f7fd",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "tsort": {
        "rows": "43268e5ba89e088f170e0cd971d1a4b334f426ba2d46dd6d2d71203c9df4ae2c",
        "README.md": "59913411887fc45f1dc93f02f072a240242f3f93ac03129953816dd6017593c0",
        "harness/inspect_task.py": "cfeb10859fb435a2606b147f97ae2cc36027bd17a6dbcc2f50537b8f3c1db5e9",
        "harness/lm_eval/_lcgen_tsort_base.yaml": "211a6f7166f65e0490a3da493e9d2d1b08798eea7af0f3c29dd146dd73244f5f",
        "harness/lm_eval/lcgen_tsort.yaml": "8a918dba670f1896d190d1743350fbdcfd0fa12a9397b79be8fb853506112699",
        "harness/lm_eval/lcgen_tsort_order_2k.yaml": "a581b23d11f096348426ad4c4d9e507ae2085db4489d58bf5a0f941f8d4cdab3",
        "harness/lm_eval/utils.py": "f464789a9f474caff64b7ca8373e2b26c0a7e230284b58921ad7974f792dac1d",
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
