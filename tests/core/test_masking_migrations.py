"""File names stored before uploads were masked are masked by a data migration (the audit trail, which
is append-only, is masked on the way in instead)."""

import importlib

from django.apps import apps

from evaluation import services as evaluation_services
from evaluation.models import EvidenceFile, SelfAssessment
from grants import services as grants_services
from grants.models import Attachment, Expenditure
from tests.factories import PDF, approve, disburse, eligible_union, make_application, make_program, voucher
from unionfunds.core import clock

RAW = "张三330106199003071236-13912345678.pdf"
MASKED = "张三330106********1236-139****5678.pdf"


def test_names_kept_unmasked_before_are_masked_by_the_migrations(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    program = make_program()
    application = make_application(program, eligible_union())
    grants_services.attachment_add(application=application, kind="other", filename="a.pdf", content=PDF, by=cast.xihu)
    allocation = approve(program, eligible_union())
    disburse(allocation, "1000.00")
    grants_services.expenditure_record(
        allocation=allocation,
        data={
            "spent_on": clock.today(),
            "category": "activities",
            "amount": "10.00",
            "description": "慰问",
            "voucher_no": voucher(),
            "beneficiaries": 1,
        },
        by=cast.xihu,
        voucher_name="v.pdf",
        voucher_content=PDF,
    )
    round_ = evaluation_services.round_create(program=program, by=cast.province)
    assessment = SelfAssessment.objects.get(round=round_, county_id="330106")
    evaluation_services.evidence_add(assessment=assessment, filename="e.pdf", content=PDF, by=cast.xihu)
    # as rows written before the mask existed
    Attachment.objects.update(original_name=RAW)
    Expenditure.objects.update(voucher_name=RAW)
    EvidenceFile.objects.update(original_name=RAW)

    importlib.import_module("grants.migrations.0006_mask_file_names").mask_names(apps, None)
    importlib.import_module("evaluation.migrations.0003_mask_evidence_names").mask_names(apps, None)
    assert list(Attachment.objects.values_list("original_name", flat=True)) == [MASKED]
    assert list(Expenditure.objects.values_list("voucher_name", flat=True)) == [MASKED]
    assert list(EvidenceFile.objects.values_list("original_name", flat=True)) == [MASKED]
