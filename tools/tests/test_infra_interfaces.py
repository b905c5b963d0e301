"""The provider-free interface check of infra/terraform (what ``tofu validate`` would say
across folders), on small trees written here and parsed by the pinned conftest."""

from __future__ import annotations

from pathlib import Path

import pytest
from hello_platform.pipeline.infra import interfaces
from hello_platform.toolchain import resolve

CHILD = """
variable "name" {
  type = string
}
variable "tags" {
  type    = map(string)
  default = {}
}
variable "alias" {
  type    = string
  default = null
}
resource "aws_kms_key" "this" {
  description = var.name
  tags        = var.tags
}
output "arn" {
  value = aws_kms_key.this.arn
}
"""

PARENT = """
data "aws_partition" "current" {}
locals {
  prefix = "arn:${data.aws_partition.current.partition}"
}
module "kms" {
  source = "../child"
  name   = "x"
  alias  = null
}
module "remote" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "6.0.0"
  anything = true
}
resource "aws_s3_bucket" "b" {
  bucket = "${local.prefix}-${module.kms.arn}-${module.remote.vpc_id}"
}
output "bucket" {
  value = aws_s3_bucket.b.id
}
"""


def findings(tmp_path: Path, parent: str = PARENT, child: str = CHILD) -> list[str]:
    (tmp_path / "child").mkdir()
    (tmp_path / "parent").mkdir()
    (tmp_path / "child" / "main.tf").write_text(child)
    (tmp_path / "parent" / "main.tf").write_text(parent)
    files = sorted(tmp_path.glob("*/*.tf"))
    return [f"{f.rule} {f.message}" for f in interfaces.check_files(resolve("conftest"), files)]


def test_a_consistent_tree_has_no_findings(tmp_path: Path) -> None:
    assert findings(tmp_path) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('  alias  = null\n', '  aliases = null\n',
         'TFI002 module "kms" passes aliases, which ../child does not declare'),
        ('  name   = "x"\n', "",
         'TFI003 module "kms" does not pass name, which ../child requires'),
        ("module.kms.arn", "module.kms.key_arn",
         "TFI004 module.kms.key_arn: ../child has no output key_arn"),
        ("module.kms.arn", "module.key.arn", "TFI004 module.key.arn: no module key is called here"),
        ("local.prefix", "local.prefx",
         "TFI004 local.prefx is referenced but not declared in this folder"),
        ("aws_s3_bucket.b.id", "aws_s3_bucket.c.id",
         "TFI004 aws_s3_bucket.c is referenced but not declared in this folder"),
        ('data "aws_partition" "current" {}', 'data "aws_region" "current" {}',
         "TFI004 data.aws_partition.current is referenced but not declared in this folder"),
        ('source = "../child"', 'source = "../gone"',
         'TFI001 module "kms": source ../gone has no .tf files'),
    ],
)  # fmt: skip
def test_each_mismatch_is_found(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in PARENT
    assert findings(tmp_path, parent=PARENT.replace(old, new)) == [expected]


def test_an_undeclared_variable_in_the_called_module_is_found(tmp_path: Path) -> None:
    child = CHILD.replace("description = var.name", "description = var.nmae")
    assert findings(tmp_path, child=child) == [
        "TFI004 var.nmae is referenced but not declared in this folder"
    ]


def test_unparsable_hcl_is_one_finding_not_a_traceback(tmp_path: Path) -> None:
    found = findings(tmp_path, parent=PARENT + "\nresource {\n")
    assert len(found) == 1 and found[0].startswith("TFI000 ")
