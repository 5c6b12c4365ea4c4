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
    "cl100k_base": "bdc1909f281de4a67965b4528c790585c210a08d35e8d6c09092badcb3026e66",
    "o200k_base": "f509436d276214f05f83eadcf6470cfebeb73d11261334f1a7fe875b07c0a9f4",
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
        "rows": "179a35431e4de381f4d6278dce91e30cfaf233ded078fd4370d60f0a4155a78c",
        "README.md": "5b71058c71855007bc391c567715d7c8e4ca85986f278400c3d242dcd7710fba",
        "harness/inspect_task.py": "e7e2692725e9f7dc8673f5dc0734f03fe00581250539187763c0419f58d79eca",
        "harness/lm_eval/_lcgen_ancestral_trace_base.yaml":
            "a788d9a1f9498bc6b83b7686d0faa092ef07f741d9be75f1913142bbbc988d3a",
        "harness/lm_eval/lcgen_ancestral_trace.yaml":
            "e00992aed9e47354b043ff63b4e2c47cf9424c663aee4c9f1f6a5fb364c42e04",
        "harness/lm_eval/lcgen_ancestral_trace_eldest_ancestor_2k.yaml":
            "07d693ab10559a9fa2d4978679da478771b6e4fd214cc88331e4c8d9a8e89498",
        "harness/lm_eval/utils.py": "17d57ecea27fd136324b32d8d95b81a7bf15eef82f65a895c0c6f714fc3f0755",
        "lcgen_metrics.py": "aa144b3d5e0f8e0ba3d3839b8ae7089a0dd6ba12b1ba88437bd3b10a5acae1a5",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "best-answer": {
        "rows": "5eddc043091a305912b410363f5dc22ddba352e52786d88218f2adc7f9fc0c2f",
        "README.md": "08fc3a0a6fb5fb73c6321ce27388efcc6e84e1503fcae02e864985f4bdba8407",
        "harness/inspect_task.py": "ff2b9f148018563b557f5794970b51adeefb9ab303a58613e6bc70b90c86d4de",
        "harness/lm_eval/_lcgen_best_answer_base.yaml":
            "b7c1203ec740309c6d8b2edc6c47f54f0f11dfb4e3bbe67057da97d617f6d93c",
        "harness/lm_eval/lcgen_best_answer.yaml": "6fd1c2e0b6b250662f3e20c9fd86ad8c99a6ef7b726b12ffc0e1746065b32403",
        "harness/lm_eval/lcgen_best_answer_single_2k.yaml":
            "73d8ca5208c290368bc0f5109d4cb88cba3897df2771f6f55ee9dc13dfe70b55",
        "harness/lm_eval/utils.py": "998791a756e7a7b7a01b834b665a496545e2d17f80fb9f177c538dce65ce07e1",
        "lcgen_metrics.py": "211feb163dfdae4e8eb138a778ce73733b2739348daae13a6a92eae61cc59cde",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "holistic-queries": {
        "rows": "61fbe7028dd844390390d091eb5569cfa83c6f050b27713f78aa0920cdb5be7f",
        "README.md": "3e186b88e1f3ee9fd362dc053550ace51c10cea99cdad166c6762f0b68032a9c",
        "harness/inspect_task.py": "0c65883db8ae6678bdcb638db3c6ef678e437c71d6d336b98af2162fc3fef9cb",
        "harness/lm_eval/_lcgen_holistic_queries_base.yaml":
            "f7366f9a984ab0816ec9df1604fe68e83050525d176707fe9d0e9bb61bda0f59",
        "harness/lm_eval/lcgen_holistic_queries.yaml":
            "8effdb5977d98f8741433ec64b895fe5f5afe24f6b5591efa379997df663847f",
        "harness/lm_eval/lcgen_holistic_queries_selection_2k.yaml":
            "e168432d45af6bd31978d7ce25c5515302afced5892db47f12d8f3b70d3d0569",
        "harness/lm_eval/utils.py": "e01c943b1d1140df6ed85937b204f3790f2d532a9845512d57585c59a62bcdc5",
        "lcgen_metrics.py": "4df7bcdf357977694615b756f7f423a9b556bdf36a045c90cbd81af42fc5c45c",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "needle-threads": {
        "rows": "9b1d2f0f73de428a75bdd82f33a9a5d724aed5d6ff91d522f2ba0531844ff560",
        "README.md": "f9a78c6d49dc6e445f980dfd45c1dc2743d301a778df61d988310164cc925999",
        "harness/inspect_task.py": "331f29a4bb3d5f801683f81eb7432b6e4b9fb098b1325ff76958fa53aec3c264",
        "harness/lm_eval/_lcgen_needle_threads_base.yaml":
            "d7c9fcb9a90d90489aa5f4e804fc6ce9778b445bae0755558f214b0e1611617c",
        "harness/lm_eval/lcgen_needle_threads.yaml": "366876f237853bbf5699b7ef100ab3c763809eddacb68b26edeb7d998788655a",
        "harness/lm_eval/lcgen_needle_threads_single_needle_2k.yaml":
            "8eeb418d0439f3548fb5c0052025b7dc9849610a530b9f7f4b88b7bf2b5e76b3",
        "harness/lm_eval/utils.py": "1f4a0de0da4dbf5ad21cd868d1ac7c0c06f18dc5b2fed64266c6c5c6e02cb121",
        "lcgen_metrics.py": "972452bd657cc6010c45010885eb3cd09a69c287eee2499a7e8eb11d4c08f814",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "needles": {
        "rows": "9578183ae39c10fa373a7a3a0978be6188bde77330378c4ee73ce39abb211528",
        "README.md": "317dec9bacd97ef66527df116a514ccdd237d4153551f611f4b200046dbc6ab3",
        "harness/inspect_task.py": "3ae56be3bc75e74a164b444325f902ca17d6c05dfc2fbf9ddab6284e4d099502",
        "harness/lm_eval/_lcgen_needles_base.yaml": "0ba1501b9afeacacb51da26bb6dfd54a4b1f0ac3b07ad7313aae3a23f8b90e1e",
        "harness/lm_eval/lcgen_needles.yaml": "1627e75ca41402c20f4da209778f04884459039a7f8ebfe83febecd3c73ecd54",
        "harness/lm_eval/lcgen_needles_single_retrieval_2k.yaml":
            "09517c31a7f23b3ce8cf90d749ce4eb7604cc5a34d4962f72a414a86c8bcdab5",
        "harness/lm_eval/utils.py": "ae3081c0a5361780c3c815fcf938ea38dc7dd631ed9c4109af747be065cc9191",
        "lcgen_metrics.py": "469401275eb6c7abfbe1344bbfc57c32a1d3e681197ec86ba6de36ca2e8ba3f9",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "qa": {
        "rows": "2d70c3e345386a404f9e18ea3d3fe9440cd1a578d9531c2f0757bb6f673e19da",
        "README.md": "1399d0479c54cda0365992c5e6f05c4f750c981be3545abea77cea71bc0e1183",
        "harness/inspect_task.py": "085e38fba750abf808571a80a08b01468a447b5bc30761529d87cc68a52f200b",
        "harness/lm_eval/_lcgen_qa_base.yaml": "6829b7a9872de303832fd22ad70b1b36e83872a1ded76228fc475169aa502a77",
        "harness/lm_eval/lcgen_qa.yaml": "0f02beacf4a4ec551e88f7a3701cab4c2e33208e35afe73e066594577aa0a37e",
        "harness/lm_eval/lcgen_qa_single_fact_2k.yaml":
            "3562bda86d1a1d62fbe94c8ec5afed866c308229fadb0dc08460c9d4b011d9dc",
        "harness/lm_eval/utils.py": "99ec5da8296c866f852c114470af306c5af5a3bbd172cdd5c739dea6eeb0758e",
        "lcgen_metrics.py": "82e3b0dd7210a7ec22486b39e68b15ee372545ff73ecc8e082bcfdde6e340bde",
        "tokenizers.json": "4e90113248aa40d0f754d9b97ec8c209690449453ce28fbe01e840ecd317f188",
    },
    "tsort": {
        "rows": "f1640ecae379e8595578943ebbe63f56e53ce9114520eaf1a3a265cab53fe51f",
        "README.md": "98b065b351db138e0179704454c7ff353c002e49d0b4561490343621dfcf8e5a",
        "harness/inspect_task.py": "a1c7e18e60f54a540256898108fea066d6dc32d6be10961cf7cdeb6bd9ef5514",
        "harness/lm_eval/_lcgen_tsort_base.yaml": "1975c2aaf6a217cf27384f4ff5a0d07179496ea17fbdefcda997b033b786254f",
        "harness/lm_eval/lcgen_tsort.yaml": "8a918dba670f1896d190d1743350fbdcfd0fa12a9397b79be8fb853506112699",
        "harness/lm_eval/lcgen_tsort_order_2k.yaml": "ef79cdd29093178ded2a2ace53713e63367899b5ec924d48195a48465cef1c45",
        "harness/lm_eval/utils.py": "10f4dcca20513fb5f317c6c4bf044644da18fbaed72df7fcffc8e043254339fe",
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
