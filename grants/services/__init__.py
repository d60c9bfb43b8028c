"""Every write of the grants app, one module per aggregate: programs, applications and their workflow (the
approval opens the allocation), attachments, and the money after approval (tranches, expenditures). Each
function checks role and scope, validates, writes and audits in one transaction.

The package re-exports them, so ``from grants import services; services.application_transition(...)`` works.
"""

from ..selectors import disbursement_targets, program_budget_figures
from .applications import (
    APPLICATION_AUDIT_FIELDS,
    COMMENT_REQUIRED,
    application_create,
    application_transition,
    application_update,
)
from .attachments import attachment_add
from .money import allocation_open, allocation_status_for, disbursement_record, expenditure_record
from .programs import PROGRAM_AUDIT_FIELDS, PROGRAM_NOT_FOUND, program_create

__all__ = [
    "APPLICATION_AUDIT_FIELDS",
    "COMMENT_REQUIRED",
    "PROGRAM_AUDIT_FIELDS",
    "PROGRAM_NOT_FOUND",
    "allocation_open",
    "allocation_status_for",
    "application_create",
    "application_transition",
    "application_update",
    "attachment_add",
    "disbursement_record",
    "disbursement_targets",
    "expenditure_record",
    "program_budget_figures",
    "program_create",
]
