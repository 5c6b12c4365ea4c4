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
    "cl100k_base": "e5258bd6a9c30f2199a7e4700fc84c486d7e5c6dddedf12203a5975128b04325",
    "o200k_base": "78fd0aeb015b22772d5621508184e56eba5d199ebcfc4faad123e9106766d4c6",
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
        "rows": "b389950eef27cd7b874d68fafec7d2f44cfae6ee3457264d59613124c03e5b1c",
        "README.md": "655fba525d241131aff3e8c2da99da5ec71122b1aa416b82b5b69d22427f2723",
        "harness/inspect_task.py": "52e7dbfe752f8c24cffa10812b810a6f3a0b2082b727d6f36db7f18ffad24c15",
        "harness/lm_eval/_lcgen_ancestral_trace_base.yaml":
            "c436f9a07d3e6025e5e8abb5299cae236ac4482d8c17222151b185d581f6e13d",
        "harness/lm_eval/lcgen_ancestral_trace.yaml":
            "e00992aed9e47354b043ff63b4e2c47cf9424c663aee4c9f1f6a5fb364c42e04",
        "harness/lm_eval/lcgen_ancestral_trace_eldest_ancestor_2k.yaml":
            "dffe081c68a3e753d7ec4fac73cb4012e6997c807ea67547b3f70bf8d572979e",
        "harness/lm_eval/utils.py": "a06da6b77f515e860d3e990bbcc639ed780b898b73e3b8524aa186094428a58a",
        "lcgen_metrics.py": "aa144b3d5e0f8e0ba3d3839b8ae7089a0dd6ba12b1ba88437bd3b10a5acae1a5",
    },
    "holistic-queries": {
        "rows": "158e1b2c11eb75ba7cda5fba6582570e187479f8dfddf054d28b539674678b58",
        "README.md": "48b4a9b7556af72a4efe74ad7b33051524396f6abd1da7036e6245bc8b01fdb2",
        "harness/inspect_task.py": "f2ee9e43240c5ce87267cf6cbbd64e9dc96ed18af908d68de9c7c079e3df397a",
        "harness/lm_eval/_lcgen_holistic_queries_base.yaml":
            "5f4fb2f8a2be448a924fc983f70ba119926e4320faa7d0b03963f87fd634d1f3",
        "harness/lm_eval/lcgen_holistic_queries.yaml":
            "8effdb5977d98f8741433ec64b895fe5f5afe24f6b5591efa379997df663847f",
        "harness/lm_eval/lcgen_holistic_queries_selection_2k.yaml":
            "153b42470f9d8ac5f0be7b4210774ab87db954b7797e0ed23c27ef96ed027821",
        "harness/lm_eval/utils.py": "660ff8186ab7efef577b1f53ff59ce7d45d1aaed47ad773a65250253cc699e23",
        "lcgen_metrics.py": "4df7bcdf357977694615b756f7f423a9b556bdf36a045c90cbd81af42fc5c45c",
    },
    "needle-threads": {
        "rows": "b0c451b6e914cb0efe382e699d9f406d574a1a395dca4627cc8f32c100dccb08",
        "README.md": "5d5c8c4851e2827e1a33952dc1eb9d3c0d5861805a82fd76aaffa9a79270dd3a",
        "harness/inspect_task.py": "69011c7b5a52487abb83c608e1689c71a09a17ef19e0cea0f86f2624348eb709",
        "harness/lm_eval/_lcgen_needle_threads_base.yaml":
            "86d31cf815c4a35611472105ff606a4aa387f593ab697b6617d16cc882d72f46",
        "harness/lm_eval/lcgen_needle_threads.yaml": "366876f237853bbf5699b7ef100ab3c763809eddacb68b26edeb7d998788655a",
        "harness/lm_eval/lcgen_needle_threads_single_needle_2k.yaml":
            "6aca51f03ad1e35704e400b7b4a8b8df149973087bfc5c3dfe9fa3c7e6185678",
        "harness/lm_eval/utils.py": "0421544e21a63efaec64c37e02491bd87e33e68f7438b529b0293471ce06f44e",
        "lcgen_metrics.py": "972452bd657cc6010c45010885eb3cd09a69c287eee2499a7e8eb11d4c08f814",
    },
    "needles": {
        "rows": "1f3a4190273a6d02ea76f4a5d351a850428a3092abe255809bea9e10e6aa789b",
        "README.md": "9340afa6a554039b603a313e2092150f767d46d954c45b7fe279f2b08c06b61e",
        "harness/inspect_task.py": "6e0c08963fe5b55a80f85754c9cad827c3ab3a94c4c75403265087bb25b667f7",
        "harness/lm_eval/_lcgen_needles_base.yaml": "d28d444b6731b01a014b9ae382ec2e2a1c4f499c1dc0382006a917a2a15f2391",
        "harness/lm_eval/lcgen_needles.yaml": "be9027876ddf5dd38bf0df6a49aecee070bb4e95abbb3b311164feffee7f7c4f",
        "harness/lm_eval/lcgen_needles_single_retrieval_2k.yaml":
            "f434ff54a40a36dcec4690d8adfdc4c26be7da291378e2d66285834c165e8c89",
        "harness/lm_eval/utils.py": "16aa669d91c09e86e5e8f95b3cde72ece5ae5067b8ce452b376ad5ff627dd662",
        "lcgen_metrics.py": "469401275eb6c7abfbe1344bbfc57c32a1d3e681197ec86ba6de36ca2e8ba3f9",
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
