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
    "cl100k_base": "e0d92a65a7fb6bf7003917d05a5e5ebd55ed8e18c67fd540f8855055f2a4a8f6",
    "o200k_base": "b800d091a2c612df5f1a0d58fdda3de8ce81fd64800cace88306696a21b2eddf",
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
        "rows": "3ef8efae1dad2111660bd7bbf5015e141fac00f6c042f603966b5d157575979d",
        "README.md": "ec21e1f6d59c42d144de20d107aaec312d895d798283de1fdcbe2e6d88b007c3",
        "harness/inspect_task.py": "ca943e31df3c785c6e0bf5d302ac48e14e1a86f9260698abd9b6cc638f880caa",
        "harness/lm_eval/_lcgen_ancestral_trace_base.yaml":
            "6d0e12b0ab61716866917bc53c29ceeaeb83781903b73d0af7cc36ee87138bb3",
        "harness/lm_eval/lcgen_ancestral_trace.yaml":
            "e00992aed9e47354b043ff63b4e2c47cf9424c663aee4c9f1f6a5fb364c42e04",
        "harness/lm_eval/lcgen_ancestral_trace_eldest_ancestor_2k.yaml":
            "b7cc817cd895f6ff6f17a8cde3bd965df4ff4695646be90635412df51fdf2cd4",
        "harness/lm_eval/utils.py": "babef1d1688f03e847c3f6171a4f4c43ad41530c7a2e62f186f568429a08c231",
        "lcgen_metrics.py": "aa144b3d5e0f8e0ba3d3839b8ae7089a0dd6ba12b1ba88437bd3b10a5acae1a5",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "best-answer": {
        "rows": "0c9cd8e3e7c7e5d3f2dd6922e66716526e1dc9525ca233609e3c37ae85c449be",
        "README.md": "12ccc4aa1586a5e8951ecbbce47ed94a6e22ac77e18297b2c7566d210f4f6b5c",
        "harness/inspect_task.py": "590bbf5f2c3c8635a7b56aa37b032c0b6d11cffed941060610d160502e3e80a0",
        "harness/lm_eval/_lcgen_best_answer_base.yaml":
            "c23a4f8711aedb5f11e67b8b718a2388a9292ef3c7bae8035db2e832844f67f5",
        "harness/lm_eval/lcgen_best_answer.yaml": "6fd1c2e0b6b250662f3e20c9fd86ad8c99a6ef7b726b12ffc0e1746065b32403",
        "harness/lm_eval/lcgen_best_answer_single_2k.yaml":
            "96829d4dacf6e743dbe4ab82b91349cec107ba2b7b9fc1a1280ade954885706d",
        "harness/lm_eval/utils.py": "ff6ff1d51f059fcc6b4c695d8b436f45418f34084b63ceffdddddd52e27d7e79",
        "lcgen_metrics.py": "211feb163dfdae4e8eb138a778ce73733b2739348daae13a6a92eae61cc59cde",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "holistic-queries": {
        "rows": "4db9c99fe21246339a032901e54381264b3a4a9c77f17d7cbc9fc387cd1b8fee",
        "README.md": "8f7a53c6c17f60092573217bc53a5a853eb04fb33d2f96f2597727bc05f4229b",
        "harness/inspect_task.py": "cbcf902a7973d5dd97486196041f08495a868a9eb0f9bdb851809558a08cc145",
        "harness/lm_eval/_lcgen_holistic_queries_base.yaml":
            "5cc4e02e9c705070d56f2150233d5014eb91d8d54a479c4ac06ecb736a3f0a8b",
        "harness/lm_eval/lcgen_holistic_queries.yaml":
            "8effdb5977d98f8741433ec64b895fe5f5afe24f6b5591efa379997df663847f",
        "harness/lm_eval/lcgen_holistic_queries_selection_2k.yaml":
            "9e74e1c65399aa3352c04e26878bc51bf21931e49c0642883422cba0ec2cfc58",
        "harness/lm_eval/utils.py": "1e52f4d4087a0c66db8e0ef1ea3718c86fa29e36a2565b0bc9d4a53975d9633f",
        "lcgen_metrics.py": "4df7bcdf357977694615b756f7f423a9b556bdf36a045c90cbd81af42fc5c45c",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "multihop-qa": {
        "rows": "31b6dd443c0f55a698e887ea3a3604f126aeac8a450c8572ad0010c32522f693",
        "README.md": "ed198fe956a0c83321b942151e519e95c85120b6adb76eaa84c05c153099feb7",
        "harness/inspect_task.py": "4174065ca6494bc32303b4fbd2d9d1d56555e47c6b06e5ceb6565008728cacfc",
        "harness/lm_eval/_lcgen_multihop_qa_base.yaml":
            "bfa887b845e98156746c43d7fd1e33cca082781e3afa49178209e17354dccc15",
        "harness/lm_eval/lcgen_multihop_qa.yaml": "1f54d1f47200a7f559c3c0025f698943289b3cca9d6a302dab2120cdca503c64",
        "harness/lm_eval/lcgen_multihop_qa_multi_hop_2k.yaml":
            "73f8b5a7fa41b8afe353cddd70dde91ba23544d56983ec0d272415c255dda737",
        "harness/lm_eval/utils.py": "b87a1b81ca70402d8efe228abe6b825d7a6f0f3bf069e210919e65dac71f0c1e",
        "lcgen_metrics.py": "1631a959fecdf3a1296afc03e64c23c0932d4ec9cf84dacb6cbbfed28b19d6f4",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "needle-threads": {
        "rows": "e6ac1ba6bdd047ed2368d462cd891bdf00a920901394640c100fd7f5a361a22f",
        "README.md": "d545525702d8afd0d160bc8523c667a23a7305d8b39388dc1cfc3d93c050c882",
        "harness/inspect_task.py": "37a75e31be8806162a9ee5d94aec98dea56a3144a59b47d842cb16b135d65484",
        "harness/lm_eval/_lcgen_needle_threads_base.yaml":
            "8d553ae41cd686d04fbca24f78b7c468ac5eba11cbce76944697ab6c050233c5",
        "harness/lm_eval/lcgen_needle_threads.yaml": "366876f237853bbf5699b7ef100ab3c763809eddacb68b26edeb7d998788655a",
        "harness/lm_eval/lcgen_needle_threads_single_needle_2k.yaml":
            "4734f51c15ca75fac7a5b54bc4cc76fdeb6b49b1d4b537a6488ea44cbeaadaf0",
        "harness/lm_eval/utils.py": "fffc888d4ac95aab9fc7b32d745569a01f724032968e7a2893fb866cca422655",
        "lcgen_metrics.py": "972452bd657cc6010c45010885eb3cd09a69c287eee2499a7e8eb11d4c08f814",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "needles": {
        "rows": "5a06f8af27475ed485b7574bf60bc9962dc774530ee05e477fe6c0e67bb87475",
        "README.md": "9958ae1983e8c429c7383b013e142be2c675b6a4b9c804a2ca5092a8221b4f15",
        "harness/inspect_task.py": "f83f880480d1b9ec64a272abb41ae236b129d94481116b7510c90bc60aedb6dc",
        "harness/lm_eval/_lcgen_needles_base.yaml": "cd68436775b1383724d90ce5df23064e572294cb1b61fe1b8b3c8f85d369b998",
        "harness/lm_eval/lcgen_needles.yaml": "1627e75ca41402c20f4da209778f04884459039a7f8ebfe83febecd3c73ecd54",
        "harness/lm_eval/lcgen_needles_single_retrieval_2k.yaml":
            "23191df14391065cc10cc17f85d35f5dd27ef6d54070c2b55e519d1c74d6a4e9",
        "harness/lm_eval/utils.py": "314f5872b61e1b31fab96aba23d684141663d147c471ce4a714efb9d2a2868b4",
        "lcgen_metrics.py": "469401275eb6c7abfbe1344bbfc57c32a1d3e681197ec86ba6de36ca2e8ba3f9",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "procedures": {
        "rows": "7b067bd6a90a6ae57d304164de65595cf9ba81248614284a28568a70b8644b58",
        "README.md": "8dd63bd53810dde491e7b4e99f36fdc8b8a28aad075b55d1b9d703f75be83ddd",
        "harness/inspect_task.py": "68ccc77822b5d164ca5663c893e39aad0f6f6381158b73f77c3954198a53165c",
        "harness/lm_eval/_lcgen_procedures_base.yaml":
            "bc5d5bfc0c9f552477e250a3ff59680c673cb72f0b7fde81bbfda5e2e61e6e94",
        "harness/lm_eval/lcgen_procedures.yaml": "ad4e9ee475ebea86e3c8d6faba1e47e576df312c7122f60b0b7872d1e2c1c6e6",
        "harness/lm_eval/lcgen_procedures_path_traversal_2k.yaml":
            "ee22f4a946d815db91eaa41df3fafe1333dd153bcc7917d36d4e172010774105",
        "harness/lm_eval/utils.py": "24209fbcc8c64e2b45afe09ff4e2d3a26b7de64340051f227a4610894cbb9ab2",
        "lcgen_metrics.py": "2f10fa5a9c8dc741434a47c030fbe7313d3daac9852d627a21fb7b498e8d6fbd",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "qa": {
        "rows": "3b64f396c27c1ac05ddb348efd2bbab2af7c622d662b2002cddcbbca6ae88ca6",
        "README.md": "399c9898a6fcf60d25632247d36be5f5522580c837717f17b1c43ac6bbac28fe",
        "harness/inspect_task.py": "f44e16dd97711b03ff11472511d6ab46663a51afeaf7d5613f6d3a574ce99a4d",
        "harness/lm_eval/_lcgen_qa_base.yaml": "e8aafc52e5afc94a6532a1627094102c75369282af46224623639a3bf2a5be9a",
        "harness/lm_eval/lcgen_qa.yaml": "0f02beacf4a4ec551e88f7a3701cab4c2e33208e35afe73e066594577aa0a37e",
        "harness/lm_eval/lcgen_qa_single_fact_2k.yaml":
            "0780430aca2710541ffd9a6274caad6b0de880b6ba4288fdd23354250e20d468",
        "harness/lm_eval/utils.py": "b6f5bb3541d011f0c3edbbdf5311f8df1bf976b5c73860b77af39c22251ed179",
        "lcgen_metrics.py": "82e3b0dd7210a7ec22486b39e68b15ee372545ff73ecc8e082bcfdde6e340bde",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "ruler": {
        "rows": "bf454b1d25650fc68bd7d1cc4f06b029111ecf1c52f41f9edc28e621bc336392",
        "README.md": "fc0710453f9457b7b820439634711adbab5b582998a68a5c25d8ea9b0372fcba",
        "harness/inspect_task.py": "df30b59bb7d6b2488ee32a6ef8df0e8b80e487b217b9062d5c489ac871f0bd4c",
        "harness/lm_eval/_lcgen_ruler_base.yaml": "0a19f64762ff916aff8bbbccc914ad2e2f3d1244546b74899a882ea2dc6f1efd",
        "harness/lm_eval/lcgen_niah_single_1.yaml": "e82ee4af637d2410fbef8b187ee52faf3461d2158645552104ad310ba0b25d1c",
        "harness/lm_eval/lcgen_ruler.yaml": "08e76f434f2cb69eacffbc0630bca1fd6ed685d66ed5a38687d00c8ed8ad2ec1",
        "harness/lm_eval/utils.py": "5ef46474cf35bbece8337a4ec34c22c9cb39c0261cd941be970f4903b6a938a9",
        "lcgen_metrics.py": "d24803f21067c0443d4dd1ea3e2d87e7c1f2d8c9b8c9c73431c95a90be84f7fd",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "tsort": {
        "rows": "3878eef424afa1df91b4890e186b90922d0e250dae55e89d43614c9df5458313",
        "README.md": "c24cd582a9376abca63686783604a90e1fe7f39e7b4371eb37f180049fc89935",
        "harness/inspect_task.py": "f982b3c9bab186d7521dbcfeff0b127f5f4547ed3937fcf548ca45692ec2b80f",
        "harness/lm_eval/_lcgen_tsort_base.yaml": "14d1930dfe0c0293eb7b06ddd8138017360d5ce61546485583abef6841d15daf",
        "harness/lm_eval/lcgen_tsort.yaml": "8a918dba670f1896d190d1743350fbdcfd0fa12a9397b79be8fb853506112699",
        "harness/lm_eval/lcgen_tsort_order_2k.yaml": "7f03f2cbd6b2e5f8474fa7e1cb442097e564037cce2ea4e914c3cbb58d24d015",
        "harness/lm_eval/utils.py": "58ea0c94982f73fc650b886c38c1a7f7a3a28c2ea831d9fcef971ab3997dff92",
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
