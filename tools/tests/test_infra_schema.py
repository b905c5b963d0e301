"""The schema check: a clean fixture passes, and one planted mistake per rule is found with
its file and line (a hand-written four-type schema in tests/data)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hello_platform.pipeline.infra import schema as sch

DATA = Path(__file__).parent / "data" / "infra_schema"
CLEAN = (DATA / "clean.tf").read_text()


@pytest.fixture(scope="module")
def schema() -> sch.Schema:
    return sch.load_file(DATA / "aws-handwritten-6.32.0.schema.json")


def found(schema: sch.Schema, tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "main.tf"
    path.write_text(text)
    return [f"{f.file} {f.rule} {f.message}" for f in sch.check_files(schema, [path], tmp_path)]


def test_the_version_comes_from_the_file_name(schema: sch.Schema) -> None:
    assert schema.version == "6.32.0"
    assert "aws_wafv2_web_acl" in schema.absent


def test_the_clean_fixture_has_no_findings(schema: sch.Schema, tmp_path: Path) -> None:
    assert found(schema, tmp_path, CLEAN) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('resource "aws_kms_key" "this"', 'resource "aws_kms_keys" "this"',
         "main.tf:3 SCH001 aws_kms_keys.this: resource type aws_kms_keys does not exist in "
         "aws 6.32.0"),
        ("  enable_key_rotation = true\n", "  enable_key_rotation = true\n  rotation = true\n",
         "main.tf:6 SCH002 aws_kms_key.this: rotation is not an argument or block of this type"),
        ("    subnet_ids = []\n", "    subnet_ids = []\n    bogus      = 1\n",
         "main.tf:20 SCH002 aws_eks_cluster.c: vpc_config.bogus is not an argument or block of "
         "this type"),
        ('  role_arn = "arn:aws:iam::123456789012:role/c"\n', "",
         "main.tf:15 SCH003 aws_eks_cluster.c: required argument role_arn is missing"),
        ('  versioning_configuration {\n    status = "Enabled"\n  }\n', "",
         "main.tf:8 SCH003 aws_s3_bucket_versioning.v: required block versioning_configuration "
         "is missing"),
        ('      provider {\n        key_arn = encryption_config.value\n      }\n', "",
         "main.tf:21 SCH003 aws_eks_cluster.c: required block encryption_config.provider is "
         "missing"),
        ('  description         = "x"\n', '  description         = "x"\n  arn = "a"\n',
         "main.tf:5 SCH004 aws_kms_key.this: arn is computed by the provider and cannot be set"),
        ("data.aws_region.current.id", "data.aws_region.current.name",
         "main.tf:35 SCH005 data.aws_region.current.name is deprecated"),
        ("oidc[0].issuer", "oidc[0].issuer_url",
         "main.tf:35 SCH006 aws_eks_cluster.c.identity[0].oidc[0].issuer_url: aws_eks_cluster "
         "has no attribute issuer_url"),
    ],
)  # fmt: skip
def test_each_planted_mistake_is_found(
    schema: sch.Schema, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in CLEAN
    assert found(schema, tmp_path, CLEAN.replace(old, new, 1)) == [expected]


def test_a_deprecated_argument_is_found(schema: sch.Schema, tmp_path: Path) -> None:
    text = CLEAN.replace(
        'data "aws_region" "current" {}', 'data "aws_region" "current" {\n  name = "eu-west-1"\n}'
    )
    assert found(schema, tmp_path, text) == [
        "main.tf:2 SCH005 data.aws_region.current: name is deprecated"
    ]


def test_unparsable_hcl_is_one_finding(schema: sch.Schema, tmp_path: Path) -> None:
    result = found(schema, tmp_path, CLEAN + "\nresource {\n")
    assert len(result) == 1 and result[0].startswith("main.tf:1 SCH000 cannot parse")
