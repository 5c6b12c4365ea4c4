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
    "cl100k_base": "3055a0dd794c70b1a12d2a7b7b4f9290ca3efef32d7a71d37fbea3c12dac4638",
    "o200k_base": "53dafa4f7ad914c1dde26474e6255cda75ecfcc1fe6f2ab74dd708b46079ba5d",
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
        "rows": "5cd558c705d51a04944c290a97e291cde7eeea3843a63bd947a7607905845e85",
        "README.md": "e2e64a45cd25544ba311029993709dad85483325a58096ca1dedf616fd602477",
        "harness/inspect_task.py": "2c364631e87947ffc60f4c8a39730d8a0744ae6c8a0a0439507c70cfbf8fe45b",
        "harness/lm_eval/_lcgen_ancestral_trace_base.yaml":
            "9667a90843c086ca3660eb17433aa96e169850edc896ae7f4a3ca6ab63fb0b37",
        "harness/lm_eval/lcgen_ancestral_trace.yaml":
            "e00992aed9e47354b043ff63b4e2c47cf9424c663aee4c9f1f6a5fb364c42e04",
        "harness/lm_eval/lcgen_ancestral_trace_eldest_ancestor_2k.yaml":
            "2043708553ac66a9f2a2c57933ee078497cb775ad937891acbb0f2f5f8c756fa",
        "harness/lm_eval/utils.py": "eaf92661c3a60bc357fb6aad1b9c9398d3fca3a928ae5dec2cc33daf4f2a1919",
        "lcgen_metrics.py": "aa144b3d5e0f8e0ba3d3839b8ae7089a0dd6ba12b1ba88437bd3b10a5acae1a5",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "best-answer": {
        "rows": "43fc8cabe90f9b2857cfabdad7342bd77997a63b4ab70ce58f9e3392edcaf33e",
        "README.md": "7186aeb5583ff022da6f4cfab06394b787e217605a37ce6ec2d8b9b9548c7890",
        "harness/inspect_task.py": "7be247a303a157aba2f90d12e25657eca9dbbfbff3660828fcd0dbceec06cd76",
        "harness/lm_eval/_lcgen_best_answer_base.yaml":
            "5c7bee5df415f4359932792b575512282964cc2d3daf599858385dcab0ffe069",
        "harness/lm_eval/lcgen_best_answer.yaml": "6fd1c2e0b6b250662f3e20c9fd86ad8c99a6ef7b726b12ffc0e1746065b32403",
        "harness/lm_eval/lcgen_best_answer_single_2k.yaml":
            "cbd57fcdd9631a1e066c535bea327986b6a9ff2f385541ff95f20c1d870b2d54",
        "harness/lm_eval/utils.py": "3064e6bcacd87a43f633cec984f1d533dd0cec381177c563ebc2e59789846e5a",
        "lcgen_metrics.py": "211feb163dfdae4e8eb138a778ce73733b2739348daae13a6a92eae61cc59cde",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "holistic-queries": {
        "rows": "8f5c3075bb7969e945309cb17eec7b8a3fef469397262a6483e2f1d5fcf2cc15",
        "README.md": "2acde416a005bbd61cca40da2c1e2d19b3c455e7ebb2ce99cd9be94740169c09",
        "harness/inspect_task.py": "3fb16fe6647e3ecae705f23f273c134f0bc0cb6e6af4e6a6f505d59d13c70765",
        "harness/lm_eval/_lcgen_holistic_queries_base.yaml":
            "6ae1d4149ea0bb1454e4ec71a157ff14da63f0883e2f45df680918912299f459",
        "harness/lm_eval/lcgen_holistic_queries.yaml":
            "8effdb5977d98f8741433ec64b895fe5f5afe24f6b5591efa379997df663847f",
        "harness/lm_eval/lcgen_holistic_queries_selection_2k.yaml":
            "523d063116a473f3e4a065296728cd568cd52f291d1735369a3194600ab24ccf",
        "harness/lm_eval/utils.py": "c0b4ed0f912904589fa79682db2cd7e7f17be7c56f5020e184b652e9f06e319c",
        "lcgen_metrics.py": "4df7bcdf357977694615b756f7f423a9b556bdf36a045c90cbd81af42fc5c45c",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "multihop-qa": {
        "rows": "5c6b88f778d1237aca0b84220b1ad0d17bd53de7f1a41afa4f8ee01daa288c60",
        "README.md": "fd06071b136a73825d4833a2ca4bd52dde4159af1244cef866b444e099820d04",
        "harness/inspect_task.py": "e3d6c348d22bb87e60281a24822936f46291beb379ee7257e7ae322cc22ac3cc",
        "harness/lm_eval/_lcgen_multihop_qa_base.yaml":
            "59698d7a48b38e9d09e872c636f643eb2afce45e2d7c4f0a889e022c2323893a",
        "harness/lm_eval/lcgen_multihop_qa.yaml": "1f54d1f47200a7f559c3c0025f698943289b3cca9d6a302dab2120cdca503c64",
        "harness/lm_eval/lcgen_multihop_qa_multi_hop_2k.yaml":
            "cb96ed76f960895811dfcaf1b1baf8017b862ca6f9c82421173ffb4efdfa2caa",
        "harness/lm_eval/utils.py": "864a5c3f252e926c81bf964faefc4d9f0fd0ca376db8694fe6a9264b20994b24",
        "lcgen_metrics.py": "1631a959fecdf3a1296afc03e64c23c0932d4ec9cf84dacb6cbbfed28b19d6f4",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "needle-threads": {
        "rows": "413c1efe07f747f1b1fa23382e2394fdd77c0f36da33e9fcad3b810740388f88",
        "README.md": "9544f7618e557ad29de714f333aecb79e4dcefb11b1da70ab5df9728486dfe74",
        "harness/inspect_task.py": "b40e116b935bf21a823cf500dbeb66949cbbc28598796778a5d809528073c7a0",
        "harness/lm_eval/_lcgen_needle_threads_base.yaml":
            "75a8418b7db95555f0552243480e526ebf919a214ad2628acbc86832d6b6b98e",
        "harness/lm_eval/lcgen_needle_threads.yaml": "366876f237853bbf5699b7ef100ab3c763809eddacb68b26edeb7d998788655a",
        "harness/lm_eval/lcgen_needle_threads_single_needle_2k.yaml":
            "81efb79f5e47707ce5608a15e8e95c7458b179fc8a2bd2ae4be482461bc89aab",
        "harness/lm_eval/utils.py": "799af778fb4cff47b3a71e406d1d592d760476a762ed7d5810ae9dd428220431",
        "lcgen_metrics.py": "972452bd657cc6010c45010885eb3cd09a69c287eee2499a7e8eb11d4c08f814",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "needles": {
        "rows": "f459e440bdbb5c4e70ab56c5683ea11416032764646cff1a13be4887a2eb1f80",
        "README.md": "eba803437b0a3f2abf0d79450c9f64c25af8a926110ff6254771334c53c80841",
        "harness/inspect_task.py": "e4892845d5738c2e044c156629c3e68ecd7e425da0ddd7fb3979c80bcc7b23c6",
        "harness/lm_eval/_lcgen_needles_base.yaml": "2482cd50690dcc2165501c9669029cf284e833358271c5dbf3e690a1930e25d8",
        "harness/lm_eval/lcgen_needles.yaml": "1627e75ca41402c20f4da209778f04884459039a7f8ebfe83febecd3c73ecd54",
        "harness/lm_eval/lcgen_needles_single_retrieval_2k.yaml":
            "656645884039ddf8155be14045b95593c379de07d98cde0466acbbe92cb0f7f5",
        "harness/lm_eval/utils.py": "7ce780dba99d89e54d277a9d609a362d57046cf84f08edfa3bc677f6cb5eb26f",
        "lcgen_metrics.py": "469401275eb6c7abfbe1344bbfc57c32a1d3e681197ec86ba6de36ca2e8ba3f9",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "procedures": {
        "rows": "7dd54b12516e71127384332ecd25f7834aec77cd10f8f7e9957a54e80fd8750f",
        "README.md": "cb347830110fc17b1b9b6ead2b3d4467e66470f4883b0ed3ee4116cdbc44a8e2",
        "harness/inspect_task.py": "4f1b425adbf60bdff1a733e67261903324399a9a4220508dd64c492bd00776ad",
        "harness/lm_eval/_lcgen_procedures_base.yaml":
            "abeb0cdb0d5ddf75edea9f85458ca74dc518a1248fb61dc7dd79a4945861e027",
        "harness/lm_eval/lcgen_procedures.yaml": "ad4e9ee475ebea86e3c8d6faba1e47e576df312c7122f60b0b7872d1e2c1c6e6",
        "harness/lm_eval/lcgen_procedures_path_traversal_2k.yaml":
            "82a9d37615113944c9ce5bf54045b1eb7d194e126519cf4a2f9274141aab95aa",
        "harness/lm_eval/utils.py": "54e3de05a6d7c8136a6f52d6572af9ccb97ea5d2c6163eb8e521ca25f9d727c3",
        "lcgen_metrics.py": "2f10fa5a9c8dc741434a47c030fbe7313d3daac9852d627a21fb7b498e8d6fbd",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "qa": {
        "rows": "b0b7b4c723a1bcf0637a5c466a6ad25c4015744b0749df79dae3ca46924ff22f",
        "README.md": "7b60a3fb82891cf31f96b36045e60f2077de9cca122bade0bbfb70c93d4c8196",
        "harness/inspect_task.py": "36a7ba4b6bbf68c04e9a470918ab0e80a0db6b687a2277dcc9a8b8e70d77f018",
        "harness/lm_eval/_lcgen_qa_base.yaml": "6b22694db26f7750edf858ee0479d01e3a57c8d8e110ef3c51db80cd024a178d",
        "harness/lm_eval/lcgen_qa.yaml": "0f02beacf4a4ec551e88f7a3701cab4c2e33208e35afe73e066594577aa0a37e",
        "harness/lm_eval/lcgen_qa_single_fact_2k.yaml":
            "ca5ef42a0a5b9b012fcb082827e3e737154ec7afeee803ac5bcd5c0416fb2783",
        "harness/lm_eval/utils.py": "693f4970d32c69820234cb399cd5b037d45d5a5f094abe2919185e3c25d5d2cc",
        "lcgen_metrics.py": "82e3b0dd7210a7ec22486b39e68b15ee372545ff73ecc8e082bcfdde6e340bde",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "tsort": {
        "rows": "a57653ed530b8f1f812d42abffdf08eb550657345c9dc9c3d87d4113c0df5088",
        "README.md": "e8e718d634a46e01f6414e66d0a96337f9cf5bf015c2df06617574dbf62852d9",
        "harness/inspect_task.py": "f2110919a8ac490aeafa65d6e320b2e91f297718ecf27bd031124c58ecb8b144",
        "harness/lm_eval/_lcgen_tsort_base.yaml": "dd9d04d6aeb554e3ababa1aada7bb6da4e2e9b597f7222199b206072e8488bab",
        "harness/lm_eval/lcgen_tsort.yaml": "8a918dba670f1896d190d1743350fbdcfd0fa12a9397b79be8fb853506112699",
        "harness/lm_eval/lcgen_tsort_order_2k.yaml": "073c67845f9532b7678f746c79c1921a9689d305c967dbbc721438f391ef3778",
        "harness/lm_eval/utils.py": "1448461e16a0a7145b70cd88c43f7b85f79cd019814293ffa11a7337988e1bd5",
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
